"""Every URL a viewer can read, generated from the URL configuration and the admin registry.

- API: every named route under /api/v1/ routed for GET. Those in the isolation matrix's REGISTRY are built
  from the world's objects of the entry's recipe (`Entry.kwargs`); the reads that matrix exempts are built
  here (`EXEMPT_READS`). A GET route in neither fails `test_every_api_read_is_in_the_matrix`.
- Pages: every page of the web URL conf that handles GET, with every combination of the world's objects its
  parameters name (`PAGE_OBJECTS`); an unknown parameter fails `test_every_page_is_in_the_matrix`.
- Admin: every registered ModelAdmin's changelist and the change page of each of the world's rows.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import URLPattern, get_resolver, reverse

from apps.evidence.models import Evidence
from apps.notifications.models import Obligation, TrainingAssignment
from apps.response.models import IncidentUserObjectPermission, ResponseAction
from apps.reviews.models import CorrectiveAction
from apps.tenancy.models import ApiToken
from tests.confidentiality.world import GROUP_EXECUTIVE, PLATFORM_ADMIN, REPORTER, World, notifications_of
from tests.test_isolation_matrix import EXEMPT, REGISTRY, ROUTES, ApiRoute

# Reads the isolation matrix exempts (no object of another tenant to reach) but which can still carry a
# secret of the caller's own department: url name -> (world, viewer user) -> URLs.
EXEMPT_READS: dict[str, Callable[[World, object], list[str]]] = {
    "compliance-iso27001-list": lambda world, user: [
        reverse("compliance-iso27001-list"),
        reverse("compliance-iso27001-list") + "?format=html",
    ],
    "metrics-list": lambda world, user: [reverse("metrics-list")],
    "calendar": lambda world, user: [reverse("calendar")],  # and the feed it names: see FOLLOW
    "notification-list": lambda world, user: [reverse("notification-list")],
    "notification-detail": lambda world, user: [
        reverse("notification-detail", kwargs={"pk": n.pk}) for n in notifications_of(user)
    ],
    "notification-preference-list": lambda world, user: [reverse("notification-preference-list")],
    "audit-checkpoint-list": lambda world, user: [reverse("audit-checkpoint-list")],
    "audit-checkpoint-public-key": lambda world, user: [reverse("audit-checkpoint-public-key")],
    "auth-own-token-list": lambda world, user: [reverse("auth-own-token-list")],
    "auth-own-token-detail": lambda world, user: [
        reverse("auth-own-token-detail", kwargs={"pk": token.pk})
        for token in ApiToken.objects.filter(user=user)
    ],
}
# GET routes deliberately not read, each with its reason.
_CHECKPOINT = (
    "A signed chain head (chain, sequence number, hash, signature): no incident, report or person in it. "
    "Checkpoints are recorded on the system connection, which cannot see the module's uncommitted world, "
    "so there is none to ask for; the list is read."
)
NOT_READ: dict[str, str] = {
    "audit-checkpoint-detail": _CHECKPOINT,
    "audit-checkpoint-document": _CHECKPOINT,
    "audit-checkpoint-signature": _CHECKPOINT,
    "notification-preference-detail": (
        "One notification kind's on/off settings of the caller itself: no incident, report or person in it "
        "(the list of all kinds is read)."
    ),
}
# Responses that name another URL the viewer would open next: url name -> response -> path.
FOLLOW: dict[str, Callable] = {
    "calendar": lambda response: "/" + response.json()["url"].split("/", 3)[3],
}


def get_routes() -> list[ApiRoute]:
    return [route for _, route in sorted(ROUTES.items()) if "get" in route.actions]


def api_urls(world: World, user) -> list[tuple[str, str]]:
    """(url name, url) of every API read for this viewer."""
    urls = []
    for route in get_routes():
        if route.name in EXEMPT_READS:
            urls += [(route.name, url) for url in EXEMPT_READS[route.name](world, user)]
        elif route.name in REGISTRY:
            entry = REGISTRY[route.name]
            if not route.kwargs:
                urls.append((route.name, reverse(route.name)))
                continue
            for obj in world.objects.get(entry.recipe.key, []):
                urls.append((route.name, reverse(route.name, kwargs=entry.kwargs(obj))))
    return urls


def api_reads_missing(world: World) -> list[str]:
    """GET routes the matrix cannot build (a new endpoint, or a recipe key the world has no object of)."""
    missing = []
    for route in get_routes():
        if route.name in EXEMPT_READS or route.name in NOT_READ:
            continue
        if route.name not in REGISTRY:
            missing.append(f"{route.name}: neither in the isolation REGISTRY nor in EXEMPT_READS/NOT_READ")
        elif route.kwargs and not world.objects.get(REGISTRY[route.name].recipe.key):
            missing.append(f"{route.name}: the world has no '{REGISTRY[route.name].recipe.key}' object")
    stale = (set(EXEMPT_READS) | set(NOT_READ)) - set(ROUTES)
    missing += [f"{name}: listed here but no longer routed" for name in sorted(stale)]
    missing += [f"{name}: exempt from isolation but not read here" for name in _exempt_gets_unread()]
    return missing


def _exempt_gets_unread() -> list[str]:
    return sorted(
        name
        for name in EXEMPT
        if name in ROUTES
        and "get" in ROUTES[name].actions
        and name not in EXEMPT_READS
        and name not in NOT_READ
    )


# --------------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------------


def _incident_children(incident) -> dict[str, list]:
    return {
        "action_id": list(ResponseAction.unscoped.filter(incident=incident)),
        "evidence_id": list(Evidence.unscoped.filter(incident=incident)),
        "obligation_id": list(Obligation.unscoped.filter(incident=incident)),
        "grant_id": list(IncidentUserObjectPermission.objects.filter(content_object=incident)),
        "corrective_action_id": list(CorrectiveAction.unscoped.filter(review__incident=incident)),
    }


PAGE_OBJECTS = {
    "incident_id",
    "action_id",
    "evidence_id",
    "obligation_id",
    "grant_id",
    "corrective_action_id",
    "report_id",
    "notification_id",
    "assignment_id",
}


def pages() -> list[tuple[str, list[str], type]]:
    web = next(p for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "web")
    found = []
    for pattern in web.url_patterns:
        assert isinstance(pattern, URLPattern)
        view = pattern.callback.view_class
        if "get" in view.http_method_names and hasattr(view, "get"):
            found.append((pattern.name, list(pattern.pattern.converters), view))
    return found


def _page_kwargs(world: World, user, params: list[str]) -> list[dict]:
    if not params:
        return [{}]
    if params == ["report_id"]:
        return [{"report_id": r.pk} for r in world.objects["report"]]
    if params == ["notification_id"]:
        return [{"notification_id": n.pk} for n in notifications_of(user)]
    if params == ["assignment_id"]:
        return [{"assignment_id": a.pk} for a in TrainingAssignment.unscoped.filter(user=user)]
    assert params[0] == "incident_id", params
    combos = []
    for incident in world.objects["incident"]:
        children = _incident_children(incident)
        for values in itertools.product(*(children[p] for p in params[1:])):
            named = {p: v.pk for p, v in zip(params[1:], values, strict=True)}
            combos.append({"incident_id": incident.pk, **named})
    return combos


# List pages whose default filter leaves some of the world's rows out: also read with every row shown.
PAGE_QUERIES: dict[str, list[str]] = {
    "web:queue": ["?status=triaged"],  # the reports already assessed (the default shows new ones)
    "web:incidents": ["?status=any"],  # every status (the default shows open ones)
    "web:reviews": ["?show=any"],  # every corrective action (the default shows pending ones)
}


def page_urls(world: World, user) -> list[tuple[str, str]]:
    urls = []
    for name, params, _view in pages():
        for kwargs in _page_kwargs(world, user, params):
            url = reverse(f"web:{name}", kwargs=kwargs)
            urls += [(f"web:{name}", url + query) for query in ["", *PAGE_QUERIES.get(f"web:{name}", [])]]
    return urls


# --------------------------------------------------------------------------------------------------
# Admin
# --------------------------------------------------------------------------------------------------


def _admin_rows(world: World, model) -> list:
    tenants = [world.tenant.pk, world.group.pk]
    if model is get_user_model():
        grantees = IncidentUserObjectPermission.objects.filter(tenant_id__in=tenants).values("user_id")
        ids = {u.pk for u in world.users.values()} | {g["user_id"] for g in grantees}
        return list(model._base_manager.filter(pk__in=ids))
    if model._meta.label == "tenancy.Tenant":
        return [world.tenant, world.group]
    if any(f.name == "tenant" for f in model._meta.concrete_fields):
        return list(model._base_manager.filter(tenant_id__in=tenants))
    if any(f.name == "user" for f in model._meta.concrete_fields):  # tokens
        return list(model._base_manager.filter(user_id__in=[u.pk for u in world.users.values()]))
    return []


def admin_urls(world: World) -> list[tuple[str, str]]:
    urls = []
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        name = "admin:{}_{}_changelist".format(*info)
        urls.append((name, reverse(name)))
        rows = _admin_rows(world, model)
        # The change page and the delete confirmation (which lists every related object). Not the history:
        # it shows the object's name (as the change page does) and admin log entries, of which none exist.
        for page in ("change", "delete"):
            name = "admin:{}_{}_{}".format(*info, page)
            urls += [(name, reverse(name, args=[row.pk])) for row in rows]
    return urls


# --------------------------------------------------------------------------------------------------
# Where a reporter's identity is no secret
# --------------------------------------------------------------------------------------------------

# The people directory of the group the confidential reporter belongs to lists it as a member, as it lists
# every member, and so do a platform administrator's people choosers (owner, team, action owners): that
# says nothing about which report it filed. Only its name, e-mail and id are excused, only there, only for
# the viewers who read the group's members; elsewhere only inside a chooser (`_without_choosers`).
DIRECTORY_URL_NAMES = {
    "user-list",
    "user-detail",
    "membership-list",
    "membership-detail",
    *(
        f"admin:{model}_{page}"
        for model in ("accounts_user", "tenancy_membership", "tenancy_tenant", "tenancy_apitoken")
        for page in ("changelist", "change", "history", "delete")
    ),
}
DIRECTORY_VIEWERS = {GROUP_EXECUTIVE, PLATFORM_ADMIN}
IDENTITY_IN_DIRECTORY = {
    "reporter username",
    "reporter first name",
    "reporter last name",
    "reporter e-mail",
    "reporter id",
    "reporter id without dashes",
}
_CHOOSERS = [
    re.compile(r"<select\b.*?</select>", re.S),
    re.compile(r'<div class="checks checks--people">.*?</div>', re.S),
]


def _without_choosers(text: str) -> str:
    for chooser in _CHOOSERS:
        text = chooser.sub("", text)
    return text


def excused(marker, viewer: str, url_name: str, text: str) -> bool:
    if not (
        marker.secret == REPORTER and marker.what in IDENTITY_IN_DIRECTORY and viewer in DIRECTORY_VIEWERS
    ):
        return False
    return url_name in DIRECTORY_URL_NAMES or marker.value not in _without_choosers(text)
