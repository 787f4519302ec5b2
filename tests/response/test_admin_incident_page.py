"""The incident's admin page: its timeline, response actions and notification obligations beside its fields,
never the raw full-text vector; a need-to-know incident seen as a summary shows the summary alone."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

AWARE = "2026-12-01T09:00:00Z"


@pytest.fixture
def gdpr_incident(tenant, declare, api_client_for, manager, handler):
    """A declared personal-data breach with an observation and a response action, under GDPR."""
    tenant.settings = {"regimes": ["gdpr"]}
    tenant.save(update_fields=["settings"])

    def make(restricted=False, title="Customer database exposed"):
        incident = declare(title=title, restricted=restricted)
        url = f"/api/v1/incidents/{incident['id']}/"
        m = api_client_for(manager)
        breach = {"personal_data_breach": True, "aware_at": AWARE}
        assert m.patch(url, breach, format="json").status_code == 200
        note = {"kind": "observation", "summary": "Backup bucket was world-readable"}
        assert m.post(f"{url}timeline/", note, format="json").status_code == 201
        action = {"title": "Rotate the bucket keys", "assignee": str(handler.pk)}
        assert m.post(f"{url}actions/", action, format="json").status_code == 201
        return incident

    return make


def _page(client, incident) -> str:
    response = client.get(f"/admin/response/incident/{incident['id']}/change/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("viewer", ["manager", "superuser"])
def test_the_incident_page_shows_its_timeline_actions_and_obligations(
    viewer, request, gdpr_incident, verified_client_for
):
    incident = gdpr_incident()

    page = _page(verified_client_for(request.getfixturevalue(viewer)), incident)

    for heading in ("Timeline entries", "Response actions", "Obligations"):
        assert f'class="inline-heading">{heading}</h2>' in page, heading
    assert "Backup bucket was world-readable" in page
    assert "Rotate the bucket keys" in page
    assert "GDPR-2" in page  # the notice to the supervisory authority


def test_the_incident_page_never_shows_the_full_text_vector(gdpr_incident, manager, verified_client_for):
    page = _page(verified_client_for(manager), gdpr_incident())

    assert "Search vector" not in page
    assert "'exposed'" not in page  # a lexeme of the tsvector


def test_an_executive_sees_a_need_to_know_incident_as_its_summary_only(
    make_member, tenant, gdpr_incident, verified_client_for
):
    incident = gdpr_incident(restricted=True)
    executive = make_member("executive", tenant)
    client = verified_client_for(executive)

    page = _page(client, incident)
    listed = client.get("/admin/response/incident/").content.decode()

    assert incident["reference"] in page
    for hidden in ("Timeline entries", "Backup bucket", "Rotate the bucket keys", "GDPR-2", "Declared at"):
        assert hidden not in page, hidden
    assert "1 Dec 2026" not in page  # aware_at
    assert incident["reference"] in listed
    assert " CET<" not in listed  # the declared time is not the summary's


def test_an_auditor_reads_a_need_to_know_incident_in_full(
    make_member, tenant, gdpr_incident, verified_client_for
):
    incident = gdpr_incident(restricted=True)

    page = _page(verified_client_for(make_member("auditor", tenant)), incident)

    assert "Backup bucket was world-readable" in page
    assert "GDPR-2" in page


def test_the_incident_page_reads_its_rows_in_a_fixed_number_of_queries(
    gdpr_incident, api_client_for, manager, verified_client_for
):
    few = gdpr_incident(title="Few rows")
    many = gdpr_incident(title="Many rows")
    m = api_client_for(manager)
    for n in range(5):
        url = f"/api/v1/incidents/{many['id']}/"
        m.post(f"{url}timeline/", {"kind": "observation", "summary": f"note {n}"}, format="json")
        m.post(f"{url}actions/", {"title": f"step {n}", "assignee": str(manager.pk)}, format="json")
    client = verified_client_for(manager)

    counts = []
    for incident in (few, many):
        _page(client, incident)  # the session and caches warm
        with CaptureQueriesContext(connection) as queries:
            _page(client, incident)
        counts.append(len(queries))

    assert counts[0] == counts[1], counts
