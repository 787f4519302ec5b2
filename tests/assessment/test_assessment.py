"""Assessment and decision (ISO/IEC 27001:2022 A.5.25): a handler or manager decides incident / not an
incident / duplicate with a category, impact × urgency (severity derived) and a rationale; decisions are
append-only; deciding "incident" opens or links the incident in the same transaction."""

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.assessment.models import Assessment
from apps.audit.models import AuditEntry
from apps.catalog.models import Category
from apps.core import events
from apps.reporting.models import Report
from apps.response.models import Incident, TimelineEntry
from tests.assessment.helpers import failing_subscriber, record_incident_assessment
from tests.factories import IncidentFactory, TenantFactory

REPORT_ID_ABSENT = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def report(file_report, reporter):
    return file_report(reporter)


def _history(client, report) -> list[dict]:
    response = client.get(f"/api/v1/reports/{report['id']}/assessment/")
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def _nothing_written(report, incidents_before: int = 0) -> None:
    assert not Assessment.unscoped.filter(report_id=report["id"]).exists()
    row = Report.unscoped.get(pk=report["id"])
    assert (row.status, row.incident_id, row.duplicate_of_id) == ("new", None, None)
    assert Incident.unscoped.count() == incidents_before


# --------------------------------------------------------------------------------------------------
# Deciding "incident"
# --------------------------------------------------------------------------------------------------


def test_deciding_incident_opens_one_from_the_report(decide, report, handler, phishing, tenant):
    response = decide(report)
    assert response.status_code == 201, response.json()
    decision = response.json()
    assert decision["decision"] == "incident"
    assert decision["category"] == str(phishing.id)
    assert (decision["impact"], decision["urgency"], decision["severity"]) == ("high", "critical", "P1")
    assert decision["rationale"] == "Credentials were entered on the fake page."
    assert decision["decided_by"] == str(handler.pk)
    assert decision["decided_at"] is not None
    assert decision["incident_opened"] is True
    assert decision["duplicate_of"] is None

    incident = Incident.unscoped.get(pk=decision["incident"])
    assert incident.tenant_id == tenant.id
    assert incident.title == report["title"]
    assert incident.description == report["description"]
    assert (incident.category_id, incident.severity) == (phishing.id, "P1")
    assert incident.reference.startswith("FIN-")
    # The clocks run from when the organisation became aware: the report's detection.
    assert incident.aware_at.isoformat() == "2026-03-02T08:15:00+00:00"

    row = Report.unscoped.get(pk=report["id"])
    assert (row.status, row.incident_id) == ("triaged", incident.pk)


def test_aware_at_falls_back_to_when_the_report_was_received(decide, file_report, reporter):
    report = file_report(reporter, detected_at=None)
    incident_id = decide(report).json()["incident"]
    received = Report.unscoped.get(pk=report["id"]).received_at
    assert Incident.unscoped.get(pk=incident_id).aware_at == received


def test_the_reporter_sees_the_status_change(decide, report, api_client_for, reporter):
    decide(report)
    mine = api_client_for(reporter).get(f"/api/v1/reports/{report['id']}/").json()
    assert mine["status"] == "triaged"


def test_the_decision_lands_on_the_incident_timeline_and_the_audit_trail(
    decide, report, api_client_for, handler
):
    decision = decide(report).json()
    timeline = api_client_for(handler).get(f"/api/v1/incidents/{decision['incident']}/timeline/").json()
    verbs = [e["verb"] for e in timeline["results"]]
    assert verbs[0] == "incident.declared"
    assert "assessment.recorded" in verbs
    recorded = AuditEntry.unscoped.get(verb="assessment.recorded")
    assert str(recorded.incident_id) == decision["incident"]
    assert recorded.changes["severity"] == [None, "P1"]
    assert recorded.data["report_id"] == report["id"]
    triaged = AuditEntry.unscoped.get(verb="report.triaged")
    assert triaged.target_id == report["id"]
    assert triaged.changes["status"] == ["new", "triaged"]


@pytest.mark.parametrize(
    ("impact", "urgency", "severity"),
    [
        ("critical", "critical", "P1"),
        ("high", "high", "P2"),
        ("medium", "critical", "P2"),
        ("medium", "medium", "P3"),
        ("low", "critical", "P3"),
        ("low", "medium", "P4"),
    ],
)
def test_severity_is_derived_from_impact_and_urgency(decide, report, impact, urgency, severity):
    decision = decide(report, impact=impact, urgency=urgency).json()
    assert decision["severity"] == severity
    assert Incident.unscoped.get(pk=decision["incident"]).severity == severity


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"severity": "P1"}, "severity"),  # never typed in
        ({"impact": "enormous"}, "impact"),
        ({"urgency": "soonish"}, "urgency"),
        ({"impact": ...}, "impact"),
        ({"category": ...}, "category"),
        ({"rationale": ...}, "rationale"),
        ({"rationale": "   "}, "rationale"),
        ({"decision": "maybe"}, "decision"),
        ({"duplicate_of": REPORT_ID_ABSENT}, "duplicate_of"),
    ],
)
def test_invalid_decisions_write_nothing(decide, report, overrides, field):
    response = decide(report, **overrides)
    assert response.status_code == 400
    assert field in response.json()
    _nothing_written(report)


def test_a_tenants_own_category_may_be_used_but_not_another_tenants(decide, report, tenant, other_tenant):
    own = Category.unscoped.create(tenant=tenant, code="payroll-fraud", name="Payroll fraud")
    theirs = Category.unscoped.create(tenant=other_tenant, code="lab-leak", name="Lab leak")
    refused = decide(report, category=str(theirs.id))
    assert refused.status_code == 400
    assert "category" in refused.json()
    assert decide(report, category=str(own.id)).status_code == 201


# --------------------------------------------------------------------------------------------------
# Linking an existing incident
# --------------------------------------------------------------------------------------------------


def test_linking_an_existing_incident(decide, report, tenant, file_report, reporter):
    existing = IncidentFactory(tenant=tenant)
    response = decide(report, incident=str(existing.pk))
    assert response.status_code == 201, response.json()
    assert response.json()["incident"] == str(existing.pk)
    assert response.json()["incident_opened"] is False
    assert Incident.unscoped.count() == 1
    assert Report.unscoped.get(pk=report["id"]).incident_id == existing.pk
    # Several reports can be linked to one incident.
    second = file_report(reporter)
    assert decide(second, incident=str(existing.pk)).status_code == 201
    assert set(Report.unscoped.filter(incident=existing).values_list("id", flat=True)) == {
        Report.unscoped.get(pk=report["id"]).pk,
        Report.unscoped.get(pk=second["id"]).pk,
    }
    assert TimelineEntry.unscoped.filter(incident=existing, verb="assessment.recorded").count() == 2


def test_linking_another_tenants_incident_is_refused_and_writes_nothing(decide, report, other_tenant):
    theirs = IncidentFactory(tenant=other_tenant)
    response = decide(report, incident=str(theirs.pk))
    assert response.status_code == 400
    assert "incident" in response.json()
    _nothing_written(report, incidents_before=1)


def test_linking_a_restricted_incident_the_handler_cannot_see_is_refused(decide, report, tenant):
    restricted = IncidentFactory(tenant=tenant, restricted=True)
    response = decide(report, incident=str(restricted.pk))
    assert response.status_code == 400
    assert "incident" in response.json()
    _nothing_written(report, incidents_before=1)


def test_the_service_refuses_a_visible_incident_of_another_tenant(
    report, handler, make_member, tenant, in_tenant
):
    """A caller who sees both tenants (the serializer lets the incident through): the service names it."""
    from apps.assessment.services import assessment_record
    from apps.tenancy.access import access_for

    other = TenantFactory()
    make_member("handler", other, username="both")
    both = type(handler).objects.get(username="both")
    from tests.factories import MembershipFactory

    MembershipFactory(user=both, tenant=tenant, role="handler")
    theirs = IncidentFactory(tenant=other)
    report_row = Report.unscoped.get(pk=report["id"])
    with in_tenant(both), pytest.raises(ValidationError) as raised, transaction.atomic():
        assessment_record(
            actor=both,
            access=access_for(both),
            report=report_row,
            decision="incident",
            rationale="Same campaign",
            category=Category.unscoped.get(code="phishing"),
            impact="low",
            urgency="low",
            incident=theirs,
        )
    assert "incident" in raised.value.message_dict
    _nothing_written(report, incidents_before=1)


def test_opening_the_incident_is_atomic_with_the_decision(decide, report):
    """If anything after the incident was opened fails, the incident is not left behind."""

    def explode(event):
        raise ValidationError({"incident": ["Linking failed downstream."]})

    events.subscribe("assessment.recorded")(explode)
    try:
        response = decide(report)
    finally:
        events._subscribers.remove(("assessment.recorded", explode))
    assert response.status_code == 400
    _nothing_written(report)
    assert not AuditEntry.unscoped.filter(verb__in=["incident.declared", "assessment.recorded"]).exists()
    assert decide(report).status_code == 201  # and the same decision goes through afterwards


# --------------------------------------------------------------------------------------------------
# Not an incident, duplicates
# --------------------------------------------------------------------------------------------------


def test_not_an_incident_triages_without_an_incident(decide, report):
    response = decide(report, decision="not_incident", category=..., impact=..., urgency=...)
    assert response.status_code == 201, response.json()
    assert response.json()["incident"] is None
    assert response.json()["severity"] == ""
    row = Report.unscoped.get(pk=report["id"])
    assert (row.status, row.incident_id) == ("triaged", None)
    assert Incident.unscoped.count() == 0
    with_incident = decide(report, decision="not_incident", incident=str(IncidentFactory().pk))
    assert with_incident.status_code == 400


def test_a_duplicate_needs_its_original(decide, report, file_report, reporter):
    missing = decide(report, decision="duplicate", category=..., impact=..., urgency=...)
    assert missing.status_code == 400
    assert "duplicate_of" in missing.json()
    itself = decide(report, decision="duplicate", duplicate_of=report["id"])
    assert itself.status_code == 400
    assert "duplicate_of" in itself.json()
    _nothing_written(report)
    original = file_report(reporter)
    response = decide(
        report, decision="duplicate", duplicate_of=original["id"], category=..., impact=..., urgency=...
    )
    assert response.status_code == 201, response.json()
    assert response.json()["duplicate_of"] == original["id"]
    row = Report.unscoped.get(pk=report["id"])
    assert (row.status, row.duplicate_of_id, row.incident_id) == ("triaged", row.duplicate_of.pk, None)


def test_a_duplicate_of_another_tenants_report_is_unknown(
    decide, report, file_report, make_member, other_tenant
):
    theirs = file_report(make_member("reporter", other_tenant), in_tenant=other_tenant)
    response = decide(report, decision="duplicate", duplicate_of=theirs["id"])
    assert response.status_code == 400
    assert "does not exist" in response.json()["duplicate_of"][0]
    _nothing_written(report)


def test_duplicates_do_not_go_round_in_circles(decide, report, file_report, reporter):
    original = file_report(reporter)
    assert decide(report, decision="duplicate", duplicate_of=original["id"]).status_code == 201
    response = decide(original, decision="duplicate", duplicate_of=report["id"])
    assert response.status_code == 400
    assert "duplicate_of" in response.json()


def test_a_duplicate_joins_its_originals_incident(decide, report, file_report, reporter):
    incident_id = decide(report).json()["incident"]
    copy = file_report(reporter)
    response = decide(
        copy, decision="duplicate", duplicate_of=report["id"], category=..., impact=..., urgency=...
    )
    assert response.json()["incident"] == incident_id
    assert str(Report.unscoped.get(pk=copy["id"]).incident_id) == incident_id
    assert Incident.unscoped.count() == 1


# --------------------------------------------------------------------------------------------------
# History and append-only
# --------------------------------------------------------------------------------------------------


def test_reassessment_appends_and_the_history_is_newest_first(
    decide, report, api_client_for, handler, manager
):
    first = decide(
        report,
        decision="not_incident",
        category=...,
        impact=...,
        urgency=...,
        rationale="Looks like marketing",
    ).json()
    second = decide(
        report, by=manager, impact="low", urgency="low", rationale="Three more users clicked"
    ).json()
    third = decide(report, impact="critical", urgency="critical", rationale="Admin account used").json()
    history = _history(api_client_for(handler), report)
    assert [d["id"] for d in history] == [third["id"], second["id"], first["id"]]
    assert [d["decision"] for d in history] == ["incident", "incident", "not_incident"]
    assert [d["decided_by"] for d in history] == [str(handler.pk), str(manager.pk), str(handler.pk)]
    assert [d["rationale"] for d in history] == [
        "Admin account used",
        "Three more users clicked",
        "Looks like marketing",
    ]
    assert [d["severity"] for d in history] == ["P1", "P4", ""]
    # A reclassification keeps the incident the report already became.
    assert third["incident"] == second["incident"]
    assert third["incident_opened"] is False
    assert Incident.unscoped.count() == 1


def test_decisions_are_append_only_in_the_database(decide, report):
    decide(report)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Assessment.unscoped.update(rationale="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Assessment.unscoped.all().delete()
    assert Assessment.unscoped.get().rationale == "Credentials were entered on the fake page."


def test_the_database_refuses_a_decision_without_rationale(decide, report, handler):
    decide(report, decision="not_incident")
    row = Assessment.unscoped.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.unscoped.create(
            tenant_id=row.tenant_id,
            report_id=row.report_id,
            decided_by=handler,
            decided_at=row.decided_at,
            decision="not_incident",
            rationale="  ",
        )


def test_the_database_refuses_a_decision_on_another_tenants_report(decide, report, handler, other_tenant):
    decide(report, decision="not_incident")
    row = Assessment.unscoped.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.unscoped.create(
            tenant=other_tenant,
            report_id=row.report_id,
            decided_by=handler,
            decided_at=row.decided_at,
            decision="not_incident",
            rationale="planted",
        )


# --------------------------------------------------------------------------------------------------
# Who may decide and read decisions
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["handler", "investigator", "manager"])
def test_handlers_investigators_and_managers_decide(role, decide, report, make_member, tenant):
    assert decide(report, by=make_member(role, tenant)).status_code == 201


@pytest.mark.parametrize("role", ["reporter", "auditor", "executive", "tenant_admin"])
def test_other_roles_may_not_decide(role, decide, report, make_member, tenant):
    assert decide(report, by=make_member(role, tenant)).status_code == 403
    _nothing_written(report)


def test_the_reporter_may_not_decide_its_own_report_nor_read_the_reasoning(
    decide, report, reporter, api_client_for
):
    assert decide(report, by=reporter).status_code == 403
    assert api_client_for(reporter).get(f"/api/v1/reports/{report['id']}/assessment/").status_code == 403


def test_auditors_read_the_history(decide, report, auditor, api_client_for):
    decide(report)
    assert len(_history(api_client_for(auditor), report)) == 1


@pytest.mark.parametrize("role", ["handler", "manager", "auditor"])
def test_another_tenants_report_is_unknown(role, decide, report, make_member, other_tenant, api_client_for):
    outsider = make_member(role, other_tenant)
    assert api_client_for(outsider).get(f"/api/v1/reports/{report['id']}/assessment/").status_code == 404
    if role != "auditor":
        assert decide(report, by=outsider).status_code == 404
    _nothing_written(report)


def test_a_missing_report_is_404(decide):
    assert decide({"id": REPORT_ID_ABSENT}).status_code == 404


def test_the_history_costs_the_same_for_1_or_10_decisions(decide, report, api_client_for, handler):
    client = api_client_for(handler)
    decide(report)
    client.get(f"/api/v1/reports/{report['id']}/assessment/")  # warm-up
    with CaptureQueriesContext(connection) as few:
        assert len(_history(client, report)) == 1
    for _ in range(9):
        decide(report, decision="not_incident")
    with CaptureQueriesContext(connection) as many:
        assert len(_history(client, report)) == 10
    assert len(few) == len(many)


def test_the_service_is_one_transaction_whoever_calls_it(report, handler, phishing, in_tenant):
    """Not only the API's request transaction: a direct caller (web view, task) gets the same guarantee."""
    with (
        failing_subscriber("report.triaged"),
        in_tenant(handler),
        pytest.raises(RuntimeError, match="subscriber failed"),
    ):
        record_incident_assessment(handler, report["id"], phishing)
    _nothing_written(report)
