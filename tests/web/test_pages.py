"""Every page renders for the roles that may see it; roles that may not get the 403 page."""

import pytest
from django.urls import reverse

ALL = ["reporter", "handler", "manager", "auditor", "executive"]

# (url name, kwargs from the world, roles that see it, roles refused with 403)
PAGES = [
    ("home", {}, ALL, []),
    ("report", {}, ALL, []),
    ("my-reports", {}, ALL, []),
    ("report-filed", {"report_id": "report"}, ["reporter", "handler", "manager", "auditor"], []),
    ("queue", {}, ["handler", "manager", "auditor"], ["reporter", "executive"]),
    ("assess", {"report_id": "report"}, ["handler", "manager"], ["reporter", "auditor"]),
    ("incidents", {}, ["handler", "manager", "auditor", "executive"], ["reporter"]),
    ("incident", {"incident_id": "incident"}, ["handler", "manager", "auditor", "executive"], []),
    (
        "custody",
        {"incident_id": "incident", "evidence_id": "evidence"},
        ["handler", "manager", "auditor"],
        [],
    ),
]


def _url(world, name, kwargs):
    return reverse(f"web:{name}", kwargs={k: world[v].pk for k, v in kwargs.items()})


@pytest.mark.parametrize(("name", "kwargs", "allowed", "refused"), PAGES, ids=[p[0] for p in PAGES])
def test_pages_render_for_their_roles(name, kwargs, allowed, refused, world, client_for):
    url = _url(world, name, kwargs)
    for role in allowed:
        response = client_for(world["users"][role]).get(url)
        assert response.status_code == 200, (role, url, response.status_code)
        assert b'href="#main"' in response.content  # the layout, with its skip link
    for role in refused:
        response = client_for(world["users"][role]).get(url)
        assert response.status_code == 403, (role, url, response.status_code)
        assert b"Not allowed" in response.content


def test_pages_need_sign_in(world, client):
    for name, kwargs, _allowed, _refused in PAGES:
        response = client.get(_url(world, name, kwargs))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:sign-in"))


def test_navigation_follows_the_role(world, client_for):
    reporter_page = client_for(world["users"]["reporter"]).get("/").content.decode()
    assert 'href="/report/"' in reporter_page
    assert 'href="/queue/"' not in reporter_page
    assert 'href="/admin/"' not in reporter_page
    handler_page = client_for(world["users"]["handler"]).get("/").content.decode()
    assert 'href="/queue/"' in handler_page
    assert 'href="/incidents/"' in handler_page
    manager_page = client_for(world["users"]["manager"]).get("/").content.decode()
    assert 'href="/admin/"' in manager_page
    assert "Reports (ISO)" in manager_page


def test_the_home_page_reaches_the_report_form_in_one_click(world, client_for):
    page = client_for(world["users"]["reporter"]).get("/").content.decode()
    assert 'class="btn btn--primary btn--large" href="/report/"' in page


def test_the_workspace_shows_deadlines_and_only_allowed_transitions(world, client_for):
    handler = client_for(world["users"]["handler"])
    page = handler.get(_url(world, "incident", {"incident_id": "incident"})).content.decode()
    assert "countdown--" in page  # the GDPR clocks
    assert 'data-testid="to-investigating"' in page
    assert 'data-testid="to-closed"' not in page
    executive = client_for(world["users"]["executive"])
    page = executive.get(_url(world, "incident", {"incident_id": "incident"})).content.decode()
    assert "Move to" not in page
    assert "Add evidence" not in page
    assert "Record submission" not in page


def test_tenant_filter_narrows_the_lists(world, make_member, other_tenant, client_for):
    from apps.tenancy.models import Membership

    handler = world["users"]["handler"]
    Membership.unscoped.create(user=handler, tenant=other_tenant, role="handler")
    client = client_for(handler)
    page = client.get("/incidents/").content.decode()
    assert 'id="tenant-filter"' in page
    assert world["incident"].reference in page
    client.post("/tenant/", {"tenant": str(other_tenant.pk), "next": "/incidents/"})
    assert world["incident"].reference not in client.get("/incidents/").content.decode()
    client.post("/tenant/", {"tenant": "", "next": "/incidents/"})
    assert world["incident"].reference in client.get("/incidents/").content.decode()


def test_the_incident_page_names_impact_and_urgency_in_words(world, client_for):
    page = client_for(world["users"]["manager"]).get(f"/incidents/{world['incident'].pk}/").content.decode()
    assert "<dd>High × High</dd>" in page


def test_the_incident_page_asks_the_same_queries_however_many_actions(world, client_for, in_tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.response.actions import action_create

    client, incident = client_for(world["users"]["manager"]), world["incident"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/incidents/{incident.pk}/").status_code == 200
        return len(captured)

    one = queries()
    manager = world["users"]["manager"]
    with in_tenant(manager) as context:
        for n in range(5):
            action_create(actor=manager, access=context.access, incident=incident, title=f"Step {n}")
    assert queries() == one
