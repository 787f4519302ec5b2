"""Need-to-know as a visibility level of the choke point (issue 14): an executive sees a restricted incident
as its summary (reference, title, severity, status) and nothing else. Its children answer 404 under
/incidents/{id}/ exactly like an unknown incident's, and their rows are absent from every other list (API,
calendar, dashboard, ISO report, admin); search and filters on what the summary hides never match it.
Each test holds the same reads of an open incident beside it, which the executive does see in full."""

import csv
import io
import uuid
from datetime import timedelta

import icalendar
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.evidence.models import Evidence
from apps.notifications.models import Obligation
from apps.response.models import ResponseAction
from apps.reviews.models import CorrectiveAction
from apps.tenancy.roles import PLATFORM_SCOPES, ROLES, Scope
from tests.factories import IncidentFactory, MembershipFactory, TenantFactory, UserFactory

HIDDEN_WORD = "quokka"  # only in the restricted incident's description
DESCRIPTION = f"The payroll {HIDDEN_WORD} copied the salary ledger"


@pytest.fixture
def world(tenant, declare, api_client_for, manager, handler, make_member):
    """A restricted incident and an open one, each with every kind of child: a timeline note, an overdue
    response action, an evidence item, GDPR obligations (one overdue), a review with an overdue corrective
    action; the restricted one also granted to a handler."""
    tenant.settings = {"regimes": ["gdpr"]}
    tenant.save(update_fields=["settings"])
    m = api_client_for(manager)
    long_ago = timezone.now() - timedelta(days=5)
    made = {}
    for name, restricted in (("restricted", True), ("open", False)):
        incident = declare(title=f"Board matter {name}", restricted=restricted, description=DESCRIPTION)
        url = f"/api/v1/incidents/{incident['id']}/"
        breach = {"personal_data_breach": True, "aware_at": long_ago.isoformat()}
        assert m.patch(url, breach, format="json").status_code == 200
        note = {"kind": "observation", "summary": f"note-of-{name}"}
        assert m.post(f"{url}timeline/", note, format="json").status_code == 201
        action = m.post(f"{url}actions/", {"title": f"action-of-{name}"}, format="json")
        assert action.status_code == 201, action.json()
        file = SimpleUploadedFile(f"evidence-of-{name}.log", b"bytes of " + name.encode())
        evidence = m.post("/api/v1/evidence/", {"file": file, "incident": incident["id"]}, format="multipart")
        assert evidence.status_code == 201, evidence.json()
        review = m.post("/api/v1/reviews/", {"incident": incident["id"]}, format="json")
        assert review.status_code == 201, review.json()
        corrective = m.post(
            f"/api/v1/reviews/{review.json()['id']}/actions/",
            {"title": f"corrective-of-{name}"},
            format="json",
        )
        assert corrective.status_code == 201, corrective.json()
        ResponseAction.unscoped.filter(pk=action.json()["id"]).update(due_at=long_ago)
        CorrectiveAction.unscoped.filter(pk=corrective.json()["id"]).update(due_at=long_ago)
        obligations = Obligation.unscoped.filter(incident_id=incident["id"])
        assert obligations.filter(due_at__lt=timezone.now()).exists()  # GDPR-2, 72 hours after aware_at
        made[name] = {
            **incident,
            "action": action.json()["id"],
            "evidence": evidence.json()["id"],
            "review": review.json()["id"],
            "corrective": corrective.json()["id"],
            "obligations": {str(pk) for pk in obligations.values_list("pk", flat=True)},
        }
    grant = {"user": str(handler.pk), "permission": "view"}
    assert (
        m.post(f"/api/v1/incidents/{made['restricted']['id']}/grants/", grant, format="json").status_code
        == 201
    )
    executive = make_member("executive", tenant)
    return {**made, "executive": executive, "exec": api_client_for(executive), "manager": m}


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.content[:300]
    return {row["id"] for row in response.json()["results"]}


def _titles(response) -> set[str]:
    assert response.status_code == 200, response.content[:300]
    return {row["title"] for row in response.json()["results"]}


# --------------------------------------------------------------------------------------------------
# API: the children under /incidents/{id}/, the lists elsewhere
# --------------------------------------------------------------------------------------------------

CHILD_PATHS = ["timeline/", "actions/", "actions/{action}/", "grants/", "evidence-package/"]


@pytest.fixture
def manager_elsewhere(world, other_tenant, api_client_for):
    """An executive of the incident's department who manages another one: grants and evidence packages
    are among its scopes, so those endpoints do look the incident up."""
    MembershipFactory(user=world["executive"], tenant=other_tenant, role="manager")
    return api_client_for(world["executive"])


@pytest.mark.parametrize("path", CHILD_PATHS)
def test_a_summary_only_incidents_children_answer_404_like_an_unknown_incidents(
    world, manager_elsewhere, path
):
    restricted, client = world["restricted"], manager_elsewhere

    seen = client.get(f"/api/v1/incidents/{restricted['id']}/{path.format(**restricted)}")
    unknown = client.get(f"/api/v1/incidents/{uuid.uuid4()}/{path.format(action=uuid.uuid4())}")

    assert client.get(f"/api/v1/incidents/{restricted['id']}/").status_code == 200  # its summary
    assert (seen.status_code, seen.json()) == (404, unknown.json())


@pytest.mark.parametrize("path", ["timeline/", "actions/", "actions/{action}/"])
def test_the_children_of_an_incident_seen_in_full_are_read(world, path):
    incident = world["open"]
    assert (
        world["exec"].get(f"/api/v1/incidents/{incident['id']}/{path.format(**incident)}").status_code == 200
    )


def test_the_lists_of_children_leave_out_a_summary_only_incidents_rows(world):
    restricted, opened, client = world["restricted"], world["open"], world["exec"]

    obligations = _ids(client.get("/api/v1/obligations/"))
    assert opened["obligations"] <= obligations
    assert not restricted["obligations"] & obligations
    assert _ids(client.get(f"/api/v1/obligations/?incident={restricted['id']}")) == set()
    one = next(iter(restricted["obligations"]))
    assert client.get(f"/api/v1/obligations/{one}/").status_code == 404
    for path, key in (("evidence", "evidence"), ("reviews", "review"), ("corrective-actions", "corrective")):
        listed = _ids(client.get(f"/api/v1/{path}/"))
        assert opened[key] in listed, path
        assert restricted[key] not in listed, path
    assert client.get(f"/api/v1/reviews/{restricted['review']}/actions/").status_code == 404


# --------------------------------------------------------------------------------------------------
# Search and filters of the incident list
# --------------------------------------------------------------------------------------------------


def test_search_matches_a_summary_only_incident_on_its_summary_alone(world):
    client, manager = world["exec"], world["manager"]
    restricted, opened = world["restricted"]["title"], world["open"]["title"]

    assert _titles(client.get(f"/api/v1/incidents/?q={HIDDEN_WORD}")) == {opened}
    assert _titles(manager.get(f"/api/v1/incidents/?q={HIDDEN_WORD}")) == {restricted, opened}
    assert _titles(client.get("/api/v1/incidents/?q=board restricted")) == {restricted}
    # Nor does a word left out tell what the description holds.
    assert _titles(client.get(f"/api/v1/incidents/?q=board -{HIDDEN_WORD}")) == {restricted}
    assert _titles(manager.get(f"/api/v1/incidents/?q=board -{HIDDEN_WORD}")) == set()
    assert _titles(client.get(f"/api/v1/incidents/?q={world['restricted']['reference']}")) == {restricted}


def test_a_filter_on_a_hidden_field_never_matches_a_summary_only_incident(world, phishing):
    client, manager = world["exec"], world["manager"]
    restricted, opened = world["restricted"]["title"], world["open"]["title"]

    assert _titles(client.get(f"/api/v1/incidents/?category={phishing.pk}")) == {opened}
    assert _titles(manager.get(f"/api/v1/incidents/?category={phishing.pk}")) == {restricted, opened}
    assert _titles(client.get("/api/v1/incidents/?severity=" + world["restricted"]["severity"])) == {
        restricted,
        opened,
    }  # severity is the summary's


def test_every_filter_of_the_incident_list_reads_a_summary_field_or_hides_itself_from_summaries():
    """A new filter on a hidden field (owner, regimes, dates …) must go through incident_hidden_condition
    (IncidentFilter.hidden_field), or the list becomes an oracle of what it holds."""
    from apps.response.api.filters import IncidentFilter
    from apps.response.selectors import SUMMARY_FIELDS

    for name, declared in IncidentFilter.base_filters.items():
        assert name in SUMMARY_FIELDS or declared.method in {"hidden_field", "search"}, name


def test_the_csv_export_searches_like_the_list(world):
    response = world["exec"].get(f"/api/v1/incidents/export/?q={HIDDEN_WORD}")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["title"] for row in rows] == [world["open"]["title"]]


# --------------------------------------------------------------------------------------------------
# The ISO 27001 report's lists, the dashboard, the calendar feed
# --------------------------------------------------------------------------------------------------


def _gap_items(client) -> dict[str, set]:
    response = client.get("/api/v1/compliance/iso27001/")
    assert response.status_code == 200
    return {
        gap["code"]: {next(v for k, v in item.items() if k != "id") for item in gap["items"]}
        for control in response.json()["controls"]
        for gap in control["gaps"]
    }


def test_the_iso_reports_lists_name_only_what_the_reader_sees_in_full(world):
    shown, full = _gap_items(world["exec"]), _gap_items(world["manager"])

    for code, name in (
        ("overdue_response_actions", "action-of-{}"),
        ("overdue_corrective_actions", "corrective-of-{}"),
        ("evidence_never_verified", "evidence-of-{}.log"),
    ):
        assert name.format("open") in shown[code], code
        assert name.format("restricted") not in shown[code], code
        assert name.format("restricted") in full[code], code


def test_the_dashboard_lists_no_deadline_or_action_of_a_summary_only_incident(world, verified_client_for):
    page = verified_client_for(world["executive"]).get("/dashboard/")
    assert page.status_code == 200
    text = page.content.decode()
    assert world["open"]["reference"] in text  # its overdue notice and action
    assert world["restricted"]["reference"] not in text
    assert "action-of-restricted" not in text


@pytest.mark.django_db(transaction=True)
def test_the_calendar_feed_leaves_out_a_summary_only_incidents_deadlines(world, live_server):
    from tests.notifications.test_calendar import fetch_over_http

    url = world["exec"].get("/api/v1/calendar/").json()["url"]
    body = fetch_over_http(live_server, url).decode()
    events = icalendar.Calendar.from_ical(body).walk("VEVENT")

    uids = {str(event["UID"]) for event in events}
    assert {f"obligation-{pk}@vigil" for pk in world["open"]["obligations"]} & uids
    assert not {f"obligation-{pk}@vigil" for pk in world["restricted"]["obligations"]} & uids
    assert world["restricted"]["reference"] not in body


# --------------------------------------------------------------------------------------------------
# Web pages
# --------------------------------------------------------------------------------------------------


def test_the_web_pages_below_a_summary_only_incidents_header_answer_404(world, verified_client_for):
    client = verified_client_for(world["executive"])
    restricted = world["restricted"]
    evidence = Evidence.unscoped.get(pk=restricted["evidence"])

    header = client.get(f"/incidents/{restricted['id']}/")
    assert header.status_code == 200
    assert HIDDEN_WORD not in header.content.decode()
    assert "note-of-restricted" not in header.content.decode()
    for path in ("manage/", "review/", f"evidence/{evidence.pk}/custody/"):
        assert client.get(f"/incidents/{restricted['id']}/{path}").status_code == 404, path
    assert client.get(f"/incidents/{world['open']['id']}/review/").status_code == 200


def test_the_queue_links_a_reports_incident_only_for_who_sees_it(
    world, make_member, tenant, api_client_for, verified_client_for, phishing
):
    reporter = api_client_for(make_member("reporter", tenant))
    for name in ("restricted", "open"):
        report = reporter.post(
            "/api/v1/reports/",
            {
                "tenant": str(tenant.pk),
                "kind": "event",
                "title": f"report-of-{name}",
                "occurred_at": "2026-03-02T08:30Z",
            },
            format="json",
        )
        assert report.status_code == 201, report.json()
        decision = {
            "decision": "incident",
            "rationale": "Same matter",
            "category": str(phishing.pk),
            "impact": "medium",
            "urgency": "high",
            "incident": world[name]["id"],
        }
        linked = world["manager"].post(
            f"/api/v1/reports/{report.json()['id']}/assessment/", decision, format="json"
        )
        assert linked.status_code == 201, linked.json()
    handler = make_member("handler", tenant)  # not cleared for the need-to-know incident, not granted it

    page = verified_client_for(handler).get("/queue/?status=triaged").content.decode()

    assert "report-of-restricted" in page  # the report is the handler's to read
    assert world["open"]["reference"] in page
    assert world["restricted"]["reference"] not in page
    assert world["restricted"]["id"] not in page
    # The API says the same, through report_list's one rule: the incident a report became, or null.
    listed = api_client_for(handler).get("/api/v1/reports/?status=triaged").json()["results"]
    became = {r["title"]: r["incident"] for r in listed}
    assert became == {"report-of-restricted": None, "report-of-open": world["open"]["id"]}
    managed = world["manager"].get("/api/v1/reports/?status=triaged").json()["results"]
    assert {r["incident"] for r in managed} == {world["restricted"]["id"], world["open"]["id"]}
    probed = api_client_for(handler).get(f"/api/v1/reports/?incident={world['restricted']['id']}")
    assert probed.json()["results"] == []  # the filter is no oracle of the link either
    own = reporter.get("/api/v1/reports/").json()["results"]
    assert {r["incident"] for r in own} == {None}  # a plain member sees neither incident


# --------------------------------------------------------------------------------------------------
# The admin site
# --------------------------------------------------------------------------------------------------


def test_the_admins_incident_history_answers_404_for_a_summary_only_viewer(
    world, verified_client_for, manager
):
    url = f"/admin/response/incident/{world['restricted']['id']}/history/"
    assert verified_client_for(world["executive"]).get(url).status_code == 404
    assert verified_client_for(manager).get(url).status_code == 200


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("notifications/obligation", "obligations"),
        ("evidence/evidence", "evidence"),
        ("reviews/review", "review"),
        ("reviews/correctiveaction", "corrective"),
    ],
)
def test_the_child_admins_show_no_row_of_a_summary_only_incident(world, verified_client_for, model, key):
    client = verified_client_for(world["executive"])
    restricted, opened = world["restricted"], world["open"]
    pick = lambda value: next(iter(value)) if isinstance(value, set) else value  # noqa: E731

    listed = client.get(f"/admin/{model}/")
    assert listed.status_code == 200
    assert f"/{pick(opened[key])}/change/" in listed.content.decode()
    assert f"/{pick(restricted[key])}/" not in listed.content.decode()
    assert client.get(f"/admin/{model}/{pick(restricted[key])}/change/").status_code == 404
    searched = client.get(f"/admin/{model}/?q={restricted['reference']}")
    assert f"/{pick(restricted[key])}/" not in searched.content.decode()


# --------------------------------------------------------------------------------------------------
# Writes that would attach a child, and who reads the audit trail
# --------------------------------------------------------------------------------------------------


def test_a_report_is_not_linked_to_an_incident_its_assessor_sees_as_a_summary(db, api_client_for, phishing):
    parent = TenantFactory(name="Acme")
    finance = TenantFactory(name="Finance", parent=parent)
    restricted = IncidentFactory(tenant=finance, restricted=True)
    opened = IncidentFactory(tenant=finance)
    assessor = UserFactory()  # a handler of Finance, and an executive of the group
    MembershipFactory(user=assessor, tenant=finance, role="handler")
    MembershipFactory(user=assessor, tenant=parent, role="executive")
    client = api_client_for(assessor)
    assert client.get(f"/api/v1/incidents/{restricted.pk}/").json().keys() <= {
        "id",
        "tenant",
        "reference",
        "title",
        "severity",
        "status",
        "restricted",
    }

    def link(incident):
        report = client.post(
            "/api/v1/reports/",
            {
                "tenant": str(finance.pk),
                "kind": "event",
                "title": "Odd mail",
                "occurred_at": "2026-03-02T08:30Z",
            },
            format="json",
        )
        assert report.status_code == 201, report.json()
        decision = {
            "decision": "incident",
            "rationale": "Same campaign",
            "category": str(phishing.pk),
            "impact": "medium",
            "urgency": "high",
            "incident": str(incident.pk),
        }
        return client.post(f"/api/v1/reports/{report.json()['id']}/assessment/", decision, format="json")

    refused = link(restricted)
    assert refused.status_code == 400, refused.json()
    assert "incident" in refused.json()
    assert link(opened).status_code == 201


def test_no_app_code_filters_on_need_to_know_but_the_one_rule():
    """Who sees a need-to-know incident, and how much of it, is decided in apps/response/selectors.py
    alone (Need, incident_visible, incident_visible_condition …): no other query filters on `restricted`
    or on the `summary_only` annotation (the scattered copies issue 14 removed)."""
    import re
    from pathlib import Path

    import apps

    pattern = re.compile(r"\.(filter|exclude)\([^)]*\b(summary_only|restricted|\w+__restricted)\s*=")
    root = Path(apps.__file__).parent
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if "migrations" not in path.parts and path.relative_to(root).as_posix() != "response/selectors.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []


def test_every_reader_of_the_audit_trail_reads_need_to_know_incidents_in_full():
    """The audit trail (and its ?incident= filter) needs no summary level of its own: whoever holds
    audit:read in a tenant reads its restricted incidents in full. A role that breaks this must bring one."""
    for role in ROLES.values():
        if Scope.AUDIT_READ in role.scopes:
            assert Scope.INCIDENT_READ_RESTRICTED in role.scopes, role.id
    assert {Scope.AUDIT_READ, Scope.INCIDENT_READ_RESTRICTED} <= PLATFORM_SCOPES


def test_a_platform_administrator_reads_a_need_to_know_incident_in_full(
    world, superuser, api_client_for, verified_client_for
):
    """PLATFORM_SCOPES hold incident:read_restricted: no summary level for whoever runs the platform."""
    restricted = world["restricted"]
    client = api_client_for(superuser)

    timeline = client.get(f"/api/v1/incidents/{restricted['id']}/timeline/")
    page = verified_client_for(superuser).get(f"/admin/response/incident/{restricted['id']}/change/")

    assert timeline.status_code == 200
    assert "note-of-restricted" in {row["summary"] for row in timeline.json()["results"]}
    assert restricted["obligations"] <= _ids(client.get("/api/v1/obligations/"))
    assert HIDDEN_WORD in page.content.decode()
