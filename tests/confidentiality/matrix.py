"""Running the cells: every (viewer, URL) GET of every surface, the leaks found and the markers seen."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.test import Client
from django.urls import reverse

from apps.tenancy import context as tenant_context
from apps.tenancy.roles import RoleId
from tests.confidentiality import surfaces
from tests.confidentiality.scan import Leak, leaks_in, markers_in, received
from tests.confidentiality.world import ALLOWED, RESTRICTED, VIEWERS, World
from tests.two_factor import sign_in_verified

WEBHOOK_RECEIVER = "webhook_receiver"  # set up by the tenant admin: what it receives, its admin may read


@dataclass
class Cells:
    """One surface's cells: each request, the leaks and server errors, and who received which marker."""

    world: World
    surface: str
    count: int = 0
    leaks: list[Leak] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seen: dict[str, set[str]] = field(default_factory=dict)  # marker -> viewers that received it
    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    refused: int = 0  # cells not asked for: the endpoint refused the viewer (get_each)

    def get(self, client, viewer: str, name: str, url: str):
        response = client.get(url)
        self.statuses[f"{response.status_code // 100}xx"] += 1
        if response.status_code >= 500:
            self.errors.append(f"{viewer} GET {url}: {response.status_code}")
        if tenant_context._current.get() is not None:  # the request's context outlived the request
            self.errors.append(f"{viewer} GET {url}: left its tenant context active after the response")
            tenant_context._current.set(None)
        response.parts = received(response)
        self.check(response.parts, viewer=viewer, name=name, url=url, status=response.status_code)
        return response

    def get_each(self, client, viewer: str, name: str, urls: list[str]) -> list:
        """Every URL of one route. When the first two objects are refused alike (403, or the admin's
        redirect to its login), the refusal is the endpoint's, decided before any object is looked up (the
        isolation matrix proves it is the same for every id): the other objects are not asked for."""
        responses = []
        for index, url in enumerate(urls):
            responses.append(self.get(client, viewer, name, url))
            if index == 1 and _refused_alike(*responses):
                self.refused += len(urls) - 2
                break
        return responses

    def check(self, parts, *, viewer: str, name: str, url: str, status: int = 200) -> None:
        self.count += 1
        self.leaks += leaks_in(
            parts,
            viewer=viewer,
            url=url,
            name=name,
            status=status,
            markers=self.world.markers,
            excused=surfaces.excused,
        )
        for what in markers_in(parts, self.world.markers):
            self.seen.setdefault(what, set()).add(viewer)


def _refused_alike(first, second) -> bool:
    return (
        first.status_code == second.status_code
        and first.status_code in (302, 401, 403)
        and [text for where, text in first.parts if where != "headers"]
        == [text for where, text in second.parts if where != "headers"]
    )


def _by_route(urls: list[tuple[str, str]]):
    for name, group in itertools.groupby(urls, key=lambda pair: pair[0]):
        yield name, [url for _, url in group]


def session_client(world: World, viewer: str) -> Client:
    return sign_in_verified(Client(), world.users[viewer])


def run_api(world: World) -> Cells:
    cells = Cells(world, "API")
    for viewer in VIEWERS:
        client = world.api_client(viewer)
        for name, urls in _by_route(surfaces.api_urls(world, world.users[viewer])):
            for response in cells.get_each(client, viewer, name, urls):
                if name in surfaces.FOLLOW and response.status_code == 200:
                    cells.get(Client(), viewer, name, surfaces.FOLLOW[name](response))
                _next_pages(cells, client, viewer, name, response)
    return cells


def _next_pages(cells: Cells, client, viewer: str, name: str, response, limit: int = 50) -> None:
    """The further pages of a list, as a client paging through it reads them."""
    for _ in range(limit):
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("application/json"):
            return
        page = json.loads(next(text for where, text in response.parts if where == "body"))
        following = page.get("next") if isinstance(page, dict) else None
        if not following:
            return
        response = cells.get(client, viewer, name, following)


def run_pages(world: World) -> Cells:
    cells = Cells(world, "pages")
    for viewer in VIEWERS:
        client = session_client(world, viewer)
        for name, urls in _by_route(surfaces.page_urls(world, world.users[viewer])):
            cells.get_each(client, viewer, name, urls)
    return cells


def run_admin(world: World) -> Cells:
    cells = Cells(world, "admin")
    urls = surfaces.admin_urls(world)
    for viewer in VIEWERS:
        client = session_client(world, viewer)
        if client.get("/admin/").status_code != 200:  # may not use the admin: one cell shows it
            cells.get(client, viewer, *urls[0])
            cells.refused += len(urls) - 1
            continue
        for name, group in _by_route(urls):
            cells.get_each(client, viewer, name, group)
    return cells


def _row_text(row) -> str:
    """Every stored field of a row (subject, bodies, JSON payload, recipient, ...), as text."""
    values = (getattr(row, f.attname) for f in row._meta.concrete_fields)
    return "\n".join(
        json.dumps(v, default=str) if isinstance(v, dict | list) else str(v) for v in values
    ).lower()


def run_outbox(world: World) -> Cells:
    """What leaves the building or waits in someone's inbox: each outbox row (e-mail to a person, webhook
    call to the tenant admin's receiver) and in-app notification, read as its recipient."""
    from apps.notifications.models import Notification, OutboxMessage

    cells = Cells(world, "outbox and notifications")
    by_email = {user.email: key for key, user in world.users.items() if user.email}
    by_user = {user.pk: key for key, user in world.users.items()}
    tenants = [world.tenant.pk, world.group.pk]
    for message in OutboxMessage.objects.filter(tenant_id__in=tenants):
        viewer = WEBHOOK_RECEIVER if message.channel == "webhook" else by_email.get(message.recipient)
        if viewer is None or viewer not in (*VIEWERS, WEBHOOK_RECEIVER):
            continue
        cells.check(
            [("message", _row_text(message))], viewer=viewer, name="outbox", url=f"outbox:{message.pk}"
        )
    for note in Notification.unscoped.filter(tenant_id__in=tenants):
        viewer = by_user.get(note.user_id)
        if viewer not in VIEWERS:
            continue
        url = f"notification:{note.pk}"
        cells.check([("notification", _row_text(note))], viewer=viewer, name="notification", url=url)
    return cells


def write_leaks(
    path: str, world: World, results: dict[str, Cells], oracles: list[str], oracle_cells: int
) -> None:
    total = sum(c.count for c in results.values()) + oracle_cells
    lines = [
        "# Confidentiality matrix: leaks (tests/test_confidentiality_matrix.py, rewritten on each run)",
        "",
        f"{total} cells ({len(VIEWERS)} viewers), {len(world.markers)} markers; "
        "one line per leak: secret | viewer | URL (status) | marker | where in the response",
    ]
    for surface, cells in results.items():
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(cells.statuses.items()))
        statuses += f"; {cells.refused} more refused at the endpoint" if cells.refused else ""
        lines += ["", f"## {surface}: {cells.count} cells ({statuses}), {len(cells.leaks)} leaks", ""]
        for leak in sorted(cells.leaks, key=lambda k: (k.secret, k.url, k.viewer, k.what)):
            lines.append(f"- {leak.line()}")
        lines += [f"- SERVER ERROR {error}" for error in cells.errors]
    lines += ["", f"## filters as oracles: {oracle_cells} cells, {len(oracles)} leaks", ""]
    lines += [f"- {oracle}" for oracle in oracles]
    Path(path).write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------------------------------
# Filters as oracles: a filter on a hidden field must answer as if the field did not exist
# --------------------------------------------------------------------------------------------------


def oracle_queries(world: World) -> list[tuple[str, str, str]]:
    """(label, "api" or "page", URL) of each filter on a restricted incident's hidden field."""
    category = world.reports["category"].pk
    queries = []
    for name in ("incident-list", "incident-export"):
        base = reverse(name)
        queries += [
            (f"{name} ?q=<description>", "api", f"{base}?q={world.marker('description')}"),
            (f"{name} ?category=<its category>", "api", f"{base}?category={category}"),
        ]
    lessons = world.marker("review lessons")
    queries += [
        ("lesson-list ?q=<review lessons>", "api", f"{reverse('lesson-list')}?q={lessons}"),
        ("web:lessons ?q=<review lessons>", "page", f"{reverse('web:lessons')}?q={lessons}"),
    ]
    return queries


def run_oracles(world: World) -> tuple[list[str], list[str], int]:
    """(leaks, queries that do not find the incident even for its manager, cells)."""
    incident = world.incidents[RESTRICTED]
    names = {str(incident.pk), incident.reference.lower()}
    clients = {}
    leaks, dead, count = [], [], 0
    for label, kind, url in oracle_queries(world):
        for viewer in VIEWERS:
            if (kind, viewer) not in clients:
                clients[kind, viewer] = (
                    world.api_client(viewer) if kind == "api" else session_client(world, viewer)
                )
            response = clients[kind, viewer].get(url)
            count += 1
            found = any(name in text for _, text in received(response) for name in names)
            if viewer == RoleId.MANAGER and not found:
                dead.append(f"{label}: its manager does not find it either (no oracle to test)")
            elif viewer not in ALLOWED[RESTRICTED] and found:
                leaks.append(f"restricted | {viewer} | {url} ({response.status_code}) | {label} finds it")
    return leaks, dead, count
