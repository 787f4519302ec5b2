"""The confidentiality matrix (issue 14, "The proof"): inside one department, every endpoint, page and admin
page × every viewer × the two secret classes (tests/confidentiality/world.py).

- API: every URL under /api/v1/ from the resolver that answers GET, for every object of the world through the
  isolation matrix's REGISTRY recipes (tests/test_isolation_matrix.py), plus the reads that matrix exempts
  (per-person lists, aggregate reports, the calendar feed and the iCalendar file it names);
- pages: every page of the web URL conf that answers GET, for every object of the world;
- admin: every registered ModelAdmin's changelist and the change page of each of the world's rows;
- viewers: every role of the department, an executive of its parent group, an outsider with one grant of
  another incident, a platform administrator and the confidential reporter itself.

Each cell is a GET; the headers, the body, a download and every member of a zip are searched for each
marker the viewer may not meet. All leaks are collected and reported at once (and written to
$CONFIDENTIALITY_LEAKS when set). A URL the recipes cannot build fails `test_every_*_is_in_the_matrix`;
the controls prove the markers are seeded and found where they are allowed.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter

import pytest
from django.db import transaction
from django.test import override_settings

from apps.tenancy.roles import ROLES, RoleId
from tests import production_paths
from tests.confidentiality import surfaces
from tests.confidentiality.matrix import (
    run_admin,
    run_api,
    run_oracles,
    run_outbox,
    run_pages,
    write_leaks,
)
from tests.confidentiality.seed import seed
from tests.confidentiality.world import (
    ALLOWED,
    CONFIDENTIAL_REPORTER,
    CONTROL,
    GROUP_EXECUTIVE,
    OUTSIDER,
    PLATFORM_ADMIN,
    REPORTER,
    RESTRICTED,
    TENANT_ROLES,
    VIEWERS,
)

pytestmark = pytest.mark.django_db  # the world is the module's (below); each test reads it


@pytest.fixture(autouse=True)
def _media_root():
    """The world's files are stored once for the module (below), not per test."""


@pytest.fixture(autouse=True)
def _evidence_storage():
    """The world's evidence is stored once for the module (below), not per test."""


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    root = tmp_path_factory.mktemp("confidentiality")
    storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(root / "evidence")},
    }
    from django.conf import settings

    with (
        override_settings(
            MEDIA_ROOT=str(root / "media"),
            STORAGES={**settings.STORAGES, "evidence": storage},
            EVIDENCE_UPLOAD_TEMP_DIR=str(root / "uploads"),
        ),
        django_db_blocker.unblock(),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        production_paths.set_widening(True)
        try:
            built = seed()
        finally:
            production_paths.set_widening(False)
        try:
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# --------------------------------------------------------------------------------------------------
# The matrix, run once for the module
# --------------------------------------------------------------------------------------------------

LEAKS_FILE = os.environ.get("CONFIDENTIALITY_LEAKS")  # e.g. the lead's leak list, rewritten each run


@pytest.fixture(scope="module")
def matrix(world, django_db_blocker):
    from django.core.cache import cache

    # Thousands of cells answer 403/404 by design: django.request's warnings would drown the output.
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    with django_db_blocker.unblock():
        cache.clear()  # throttle counters
        production_paths.set_widening(True)  # the suite's own reads (which objects to ask for)
        try:
            results = {}
            for surface, run in [
                ("API", run_api),
                ("pages", run_pages),
                ("admin", run_admin),
                ("outbox and notifications", run_outbox),
            ]:
                started = time.monotonic()
                results[surface] = run(world)
                results[surface].seconds = time.monotonic() - started
            oracle_leaks, dead_oracles, oracle_cells = run_oracles(world)
        finally:
            production_paths.set_widening(False)
            logger.setLevel(level)
    if LEAKS_FILE:
        write_leaks(LEAKS_FILE, world, results, oracle_leaks, oracle_cells)
    cells = sum(c.count for c in results.values()) + oracle_cells
    print(  # noqa: T201 - the matrix's size, for the issue's note (shown with -s or -rP)
        f"\nconfidentiality matrix: {cells} cells ({len(VIEWERS)} viewers; "
        + ", ".join(
            f"{name} {c.count} in {c.seconds:.0f} s (+{c.refused} refused at the endpoint)"
            for name, c in results.items()
        )
        + f", filters {oracle_cells}), {len(world.markers)} markers "
        f"({Counter(m.secret for m in world.markers)})"
    )
    return {"results": results, "oracles": oracle_leaks, "dead_oracles": dead_oracles}


def _leaks(matrix, surface: str) -> str:
    cells = matrix["results"][surface]
    lines = [f"{len(cells.leaks)} leak(s) in {cells.count} cells of the {surface}:"]
    lines += [f"  {leak.line()}" for leak in sorted(cells.leaks, key=lambda k: (k.secret, k.viewer, k.url))]
    return "\n".join(lines)


@pytest.mark.parametrize("surface", ["API", "pages", "admin", "outbox and notifications"])
def test_no_viewer_meets_a_secret_it_may_not_know(surface, matrix):
    cells = matrix["results"][surface]
    assert cells.count, f"no cells on the {surface}"
    assert not cells.leaks, _leaks(matrix, surface)


def test_no_cell_answers_a_server_error(matrix):
    errors = [e for cells in matrix["results"].values() for e in cells.errors]
    assert not errors, "\n".join(errors)


def test_filters_on_hidden_fields_find_nothing(matrix):
    """`?q=` on a hidden description and `?category=` of a hidden category answer a summary-only or
    no-access viewer as if the restricted incident did not match (else the filter is an oracle)."""
    assert not matrix["dead_oracles"], "\n".join(matrix["dead_oracles"])
    assert not matrix["oracles"], "\n".join(matrix["oracles"])


# --------------------------------------------------------------------------------------------------
# Controls: the markers are seeded and found where they may be
# --------------------------------------------------------------------------------------------------

# Markers no allowed viewer reads anywhere: the confidential reporter's address and browser (the twin's are
# found, below), and its id in the undashed form no page shows (it is searched for in case one stores it).
SHOWN_TO_NOBODY = {"reporter address (REMOTE_ADDR)", "reporter user agent", "reporter id without dashes"}


def test_control_every_marker_reaches_a_viewer_allowed_to_see_it(world, matrix):
    seen: dict[str, set[str]] = {}
    for cells in matrix["results"].values():
        for what, viewers in cells.seen.items():
            seen.setdefault(what, set()).update(viewers)
    unseen = [
        f"{m.secret}: {m.what} (seen by {sorted(seen.get(m.what, ())) or 'nobody'})"
        for m in world.markers
        if m.what not in SHOWN_TO_NOBODY and not seen.get(m.what, set()) & ALLOWED[m.secret]
    ]
    assert not unseen, "markers no allowed viewer ever receives (seeding or search broken?):\n" + "\n".join(
        unseen
    )


@pytest.mark.parametrize("surface", ["API", "pages", "admin"])
def test_control_each_surface_shows_both_secrets_to_those_allowed(surface, world, matrix):
    """A surface whose cells all failed the same way (a sign-in that no longer works, a URL builder gone
    wrong) would find no leak either: each must show both classes to some viewer allowed to see them."""
    seen = matrix["results"][surface].seen
    secret_of = {m.what: m.secret for m in world.markers}
    shown = {secret_of[what] for what, viewers in seen.items() if viewers & ALLOWED[secret_of[what]]}
    assert {RESTRICTED, REPORTER} <= shown, f"the {surface} shows allowed viewers only {shown}"


def test_control_the_scan_flags_what_a_viewer_may_not_see(world):
    """What the manager receives (the incident, its evidence package: a zip), read as if the executive had
    received it, is flagged: the search reaches headers, JSON and each member of an archive."""
    from tests.confidentiality.scan import leaks_in, received

    manager = world.api_client(RoleId.MANAGER)
    incident = world.incidents[RESTRICTED]
    found = {}
    for url in (
        f"/api/v1/incidents/{incident.pk}/",
        f"/api/v1/incidents/{incident.pk}/evidence-package/",
    ):
        response = manager.get(url)
        assert response.status_code == 200, url
        leaks = leaks_in(
            received(response), viewer=RoleId.EXECUTIVE, url=url, name="", status=200, markers=world.markers
        )
        found[url] = {(leak.what, leak.where.split("!")[0]) for leak in leaks}
    assert ("description", "body") in found[f"/api/v1/incidents/{incident.pk}/"]
    package = found[f"/api/v1/incidents/{incident.pk}/evidence-package/"]
    assert ("evidence hash (and storage key)", "body") in package
    assert ("custody purpose", "body") in package


def test_control_a_non_confidential_reporters_address_and_browser_are_found(world, matrix):
    """The twin reports the same way without confidentiality: its address and browser are found in the
    audit trail its auditor reads, so the search does reach where the confidential reporter's would be."""
    seen = matrix["results"]["API"].seen
    for what in ("twin address (REMOTE_ADDR)", "twin user agent", "twin username"):
        assert "auditor" in seen.get(what, set()), what
    assert {m.secret for m in world.markers} == {RESTRICTED, REPORTER, CONTROL}


# --------------------------------------------------------------------------------------------------
# Completeness: a new endpoint or page is in the matrix, or fails here
# --------------------------------------------------------------------------------------------------


def test_every_api_read_is_in_the_matrix(world):
    missing = surfaces.api_reads_missing(world)
    assert not missing, (
        "GET routes under /api/v1/ the confidentiality matrix cannot build: add a recipe to the isolation "
        "matrix's REGISTRY (and an object of its kind to tests/confidentiality/world.py), or an entry to "
        "surfaces.EXEMPT_READS / NOT_READ:\n" + "\n".join(missing)
    )


def test_every_page_is_in_the_matrix():
    names = {f"web:{name}" for name, _, _ in surfaces.pages()}
    assert set(surfaces.PAGE_QUERIES) <= names, "PAGE_QUERIES names a page that is gone"
    for name, params, _view in surfaces.pages():
        unknown = set(params) - surfaces.PAGE_OBJECTS
        assert not unknown, f"web:{name} takes {unknown}: teach tests/confidentiality/surfaces.py them"


def test_every_viewer_and_secret_class_is_in_the_matrix():
    assert set(TENANT_ROLES) == set(ROLES), "every role of apps/tenancy/roles.py is a viewer"
    assert set(VIEWERS) >= set(ROLES) | {GROUP_EXECUTIVE, OUTSIDER, PLATFORM_ADMIN, CONFIDENTIAL_REPORTER}
    for secret, allowed in ALLOWED.items():
        assert allowed <= set(VIEWERS), secret
