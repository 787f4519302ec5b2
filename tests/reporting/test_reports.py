"""Reporting (ISO/IEC 27001:2022 A.6.8): every member reports and is acknowledged with a reference; the
reporter follows its own reports; handlers see the tenant's queue; confidential reporters stay hidden."""

import json
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.reporting import services
from apps.reporting.models import Report
from apps.tenancy.access import access_for
from apps.tenancy.context import activate
from apps.tenancy.roles import RoleId
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.reporting.conftest import DETECTED, OCCURRED

QUEUE_ROLES = ["handler", "investigator", "manager", "auditor"]
NO_QUEUE_ROLES = ["reporter", "tenant_admin", "executive"]


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


# --------------------------------------------------------------------------------------------------
# Filing
# --------------------------------------------------------------------------------------------------


def test_filing_answers_with_a_reference_and_an_acknowledgement(file_report, reporter, tenant):
    year = timezone.now().year
    first = file_report(reporter)
    assert first["reference"] == f"FIN-R-{year}-0001"
    assert first["status"] == "new"
    assert first["kind"] == "event"
    assert first["channel"] == "api"
    assert first["reporter"] == str(reporter.pk)
    assert first["received_at"] is not None
    assert first["acknowledged_at"] == first["received_at"]
    assert first["occurred_at"] == "2026-03-02T07:30:00Z"
    assert first["reference"] in first["acknowledgement"]
    assert tenant.name in first["acknowledgement"]
    assert file_report(reporter, kind="weakness")["reference"] == f"FIN-R-{year}-0002"
    entry = AuditEntry.unscoped.get(verb="report.created", target_id=first["id"])
    assert entry.actor_id == reporter.pk
    assert entry.changes["reference"] == [None, first["reference"]]


def test_report_references_are_per_tenant(file_report, make_member, other_tenant):
    year = timezone.now().year
    mine = file_report(make_member("reporter", other_tenant), in_tenant=other_tenant)
    assert mine["reference"] == f"ENG-R-{year}-0001"


@pytest.mark.parametrize("role", [role.value for role in RoleId])
def test_every_member_may_report(role, file_report, make_member, tenant):
    report = file_report(make_member(role, tenant))
    assert Report.unscoped.filter(pk=report["id"], tenant=tenant).exists()


def test_a_member_of_a_parent_tenant_reports_in_its_departments(file_report, make_member, tenant):
    child = TenantFactory(parent=tenant, name="Payroll")
    report = file_report(make_member("reporter", tenant), in_tenant=child)
    assert report["tenant"] == str(child.pk)


def test_reporting_in_a_tenant_the_caller_cannot_see_is_unknown(
    api_client_for, reporter, other_tenant, tenant
):
    body = {"tenant": str(other_tenant.id), "kind": "event", "title": "x", "occurred_at": OCCURRED}
    response = api_client_for(reporter).post("/api/v1/reports/", body, format="json")
    assert response.status_code == 400
    assert "does not exist" in response.json()["tenant"][0]
    assert not Report.unscoped.exists()


def test_an_outsider_may_not_report(api_client_for, tenant):
    outsider = UserFactory()
    body = {"tenant": str(tenant.id), "kind": "event", "title": "x", "occurred_at": OCCURRED}
    assert api_client_for(outsider).post("/api/v1/reports/", body, format="json").status_code == 403


def test_the_service_refuses_a_tenant_without_membership(reporter, other_tenant):
    from django.core.exceptions import PermissionDenied

    with activate(access_for(reporter)), transaction.atomic(), pytest.raises(PermissionDenied):
        services.report_create(
            actor=reporter,
            access=access_for(reporter),
            tenant=other_tenant,
            kind="event",
            title="x",
            occurred_at=timezone.now(),
        )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"status": "triaged"}, "status"),  # status changes only through an assessment
        ({"reporter": "00000000-0000-0000-0000-000000000000"}, "reporter"),
        ({"reference": "FIN-R-1999-0001"}, "reference"),
        ({"incident": "00000000-0000-0000-0000-000000000000"}, "incident"),
        ({"kind": "rumour"}, "kind"),
        ({"title": ""}, "title"),
        ({"occurred_at": None}, "occurred_at"),
        ({"occurred_at": (timezone.now() + timedelta(days=2)).isoformat()}, "occurred_at"),
        ({"detected_at": "2026-03-01T00:00:00+01:00"}, "detected_at"),  # before it occurred
    ],
)
def test_invalid_reports_are_400(api_client_for, reporter, tenant, overrides, field):
    body = {"tenant": str(tenant.id), "kind": "event", "title": "x", "occurred_at": OCCURRED, **overrides}
    response = api_client_for(reporter).post("/api/v1/reports/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Report.unscoped.exists()


def test_reports_change_only_through_assessments(file_report, api_client_for, manager):
    report = file_report(manager)
    client = api_client_for(manager)
    url = f"/api/v1/reports/{report['id']}/"
    assert client.put(url, {"status": "triaged"}, format="json").status_code == 405
    assert client.patch(url, {"status": "triaged"}, format="json").status_code == 405
    assert client.delete(url).status_code == 405
    assert Report.unscoped.get(pk=report["id"]).status == "new"


def test_detected_at_is_optional(file_report, reporter):
    report = file_report(reporter, detected_at=None)
    assert report["detected_at"] is None


# --------------------------------------------------------------------------------------------------
# Who sees what
# --------------------------------------------------------------------------------------------------


def test_a_reporter_sees_its_own_reports_and_their_status_only(
    file_report, api_client_for, make_member, tenant, handler
):
    alice, bob = make_member("reporter", tenant), make_member("reporter", tenant)
    alices = file_report(alice)
    bobs = file_report(bob)
    client = api_client_for(alice)
    assert _ids(client.get("/api/v1/reports/")) == [alices["id"]]
    assert client.get(f"/api/v1/reports/{bobs['id']}/").status_code == 404
    Report.unscoped.filter(pk=alices["id"]).update(status="triaged")
    assert client.get(f"/api/v1/reports/{alices['id']}/").json()["status"] == "triaged"


@pytest.mark.parametrize("role", QUEUE_ROLES)
def test_readers_of_the_queue_see_every_report_of_the_tenant(
    role, file_report, api_client_for, make_member, tenant
):
    reports = {file_report(make_member("reporter", tenant))["id"] for _ in range(2)}
    client = api_client_for(make_member(role, tenant))
    assert set(_ids(client.get("/api/v1/reports/"))) == reports
    for report_id in reports:
        assert client.get(f"/api/v1/reports/{report_id}/").status_code == 200


@pytest.mark.parametrize("role", NO_QUEUE_ROLES)
def test_other_roles_see_only_their_own(role, file_report, api_client_for, make_member, tenant, reporter):
    theirs = file_report(reporter)
    me = make_member(role, tenant)
    mine = file_report(me)
    client = api_client_for(me)
    assert _ids(client.get("/api/v1/reports/")) == [mine["id"]]
    assert client.get(f"/api/v1/reports/{theirs['id']}/").status_code == 404


@pytest.mark.parametrize("role", [role.value for role in RoleId])
def test_another_tenants_reports_are_unknown(
    role, file_report, api_client_for, make_member, reporter, other_tenant
):
    theirs = file_report(reporter)
    client = api_client_for(make_member(role, other_tenant))
    assert theirs["id"] not in _ids(client.get("/api/v1/reports/"))
    assert client.get(f"/api/v1/reports/{theirs['id']}/").status_code == 404


def test_queue_filters(file_report, api_client_for, handler, reporter, tenant):
    child = TenantFactory(parent=tenant, name="Payroll")
    event = file_report(reporter, title="Phishing wave")
    weakness = file_report(reporter, kind="weakness", title="Printer share open to guests")
    in_child = file_report(handler, in_tenant=child, kind="malfunction", title="Backup job crashed")
    Report.unscoped.filter(pk=event["id"]).update(status="triaged")
    client = api_client_for(handler)
    assert set(_ids(client.get("/api/v1/reports/?status=new"))) == {weakness["id"], in_child["id"]}
    assert _ids(client.get("/api/v1/reports/?kind=weakness")) == [weakness["id"]]
    assert _ids(client.get("/api/v1/reports/?q=printer")) == [weakness["id"]]
    assert _ids(client.get(f"/api/v1/reports/?q={event['reference']}")) == [event["id"]]
    assert _ids(client.get(f"/api/v1/reports/?tenant={child.pk}")) == [in_child["id"]]
    assert _ids(client.get("/api/v1/reports/?mine=true")) == [in_child["id"]]
    other = TenantFactory()
    assert client.get(f"/api/v1/reports/?tenant={other.pk}").status_code == 400


def test_the_queue_is_newest_first(file_report, api_client_for, handler, reporter):
    first, second = file_report(reporter), file_report(reporter)
    assert _ids(api_client_for(handler).get("/api/v1/reports/")) == [second["id"], first["id"]]


# --------------------------------------------------------------------------------------------------
# Confidential reporters
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def confidential(file_report, reporter):
    return file_report(reporter, confidential=True, title="My manager shares his password")


@pytest.mark.parametrize("role", ["handler", "investigator", "auditor"])
def test_a_confidential_reporter_is_hidden_from_the_queue(
    role, confidential, api_client_for, make_member, tenant
):
    client = api_client_for(make_member(role, tenant))
    [row] = client.get("/api/v1/reports/").json()["results"]
    assert row["id"] == confidential["id"]
    assert row["confidential"] is True
    assert row["reporter"] is None
    assert client.get(f"/api/v1/reports/{confidential['id']}/").json()["reporter"] is None


def test_platform_administrators_do_not_see_a_confidential_reporter(confidential, api_client_for, superuser):
    client = api_client_for(superuser)
    assert client.get(f"/api/v1/reports/{confidential['id']}/").json()["reporter"] is None


def test_the_reporter_stays_hidden_from_executives(confidential, api_client_for, executive):
    client = api_client_for(executive)
    assert _ids(client.get("/api/v1/reports/")) == []
    assert client.get(f"/api/v1/reports/{confidential['id']}/").status_code == 404


def test_a_non_confidential_reporter_is_shown_to_the_queue(file_report, api_client_for, reporter, handler):
    report = file_report(reporter)
    assert api_client_for(handler).get(f"/api/v1/reports/{report['id']}/").json()["reporter"] == str(
        reporter.pk
    )


def test_managers_and_the_reporter_see_a_confidential_reporter(
    confidential, api_client_for, manager, reporter
):
    for user in (manager, reporter):
        client = api_client_for(user)
        assert client.get(f"/api/v1/reports/{confidential['id']}/").json()["reporter"] == str(reporter.pk)
        assert client.get("/api/v1/reports/").json()["results"][0]["reporter"] == str(reporter.pk)


def test_a_manager_of_another_tenant_does_not(confidential, api_client_for, make_member, tenant, reporter):
    child = TenantFactory(parent=tenant, name="Payroll")
    child_manager = make_member("manager", child)
    handler_above = make_member("handler", tenant)
    MembershipFactory(user=handler_above, tenant=child, role="manager")
    # A manager of the child only is a manager of another tenant: 404; a handler of the parent who manages
    # the child still reads the parent's report as a handler.
    assert api_client_for(child_manager).get(f"/api/v1/reports/{confidential['id']}/").status_code == 404
    assert (
        api_client_for(handler_above).get(f"/api/v1/reports/{confidential['id']}/").json()["reporter"] is None
    )


def test_a_confidential_report_leaves_no_identity_in_the_audit_trail(
    confidential, reporter, auditor, api_client_for
):
    entries = AuditEntry.unscoped.filter(target_id=confidential["id"])
    assert [e.verb for e in entries] == ["report.created"]
    entry = entries.get()
    assert entry.confidential is True
    assert entry.actor_id is None
    assert entry.actor_repr == "confidential"
    # The address and browser identify a person as well as a name does.
    assert entry.ip is None
    assert entry.user_agent == ""
    row = json.dumps(
        {f.name: str(getattr(entry, f.attname)) for f in AuditEntry._meta.fields} | {"c": entry.changes}
    )
    assert str(reporter.pk) not in row
    assert reporter.username not in row
    trail = api_client_for(auditor).get(f"/api/v1/audit/?target_id={confidential['id']}").json()["results"]
    assert [e["actor_id"] for e in trail] == [None]
    assert reporter.username not in json.dumps(trail)


def test_an_ordinary_report_keeps_its_origin(file_report, reporter):
    report = file_report(reporter)
    entry = AuditEntry.unscoped.get(target_id=report["id"])
    assert entry.actor_id == reporter.pk
    assert entry.ip == "127.0.0.1"


def test_there_is_no_way_to_filter_the_queue_by_reporter(confidential, api_client_for, handler, reporter):
    # An unknown filter is ignored by django-filter: the queue must not narrow to the reporter's rows.
    other = api_client_for(handler).get(f"/api/v1/reports/?reporter={reporter.pk}&reporter_id={reporter.pk}")
    assert _ids(other) == [confidential["id"]]
    empty = api_client_for(handler).get(f"/api/v1/reports/?reporter={UserFactory().pk}")
    assert _ids(empty) == [confidential["id"]]


# --------------------------------------------------------------------------------------------------
# Database guarantees and cost
# --------------------------------------------------------------------------------------------------


def test_a_duplicate_link_never_crosses_tenants_in_the_database(
    file_report, reporter, make_member, other_tenant
):
    ours = file_report(reporter)
    theirs = file_report(make_member("reporter", other_tenant), in_tenant=other_tenant)
    with pytest.raises(IntegrityError), transaction.atomic():
        Report.unscoped.filter(pk=ours["id"]).update(duplicate_of_id=theirs["id"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Report.unscoped.filter(pk=ours["id"]).update(duplicate_of_id=ours["id"])


@pytest.mark.parametrize("role", ["handler", "manager", "reporter"])
def test_the_report_list_costs_the_same_for_1_or_20_rows(
    role, file_report, api_client_for, make_member, tenant
):
    me = make_member(role, tenant)
    client = api_client_for(me)
    file_report(me, confidential=True)
    client.get("/api/v1/reports/")  # warm-up: the token's first use writes last_used_at
    with CaptureQueriesContext(connection) as few:
        assert len(_ids(client.get("/api/v1/reports/"))) == 1
    for n in range(19):
        file_report(me, confidential=bool(n % 2), title=f"Report {n}")
    with CaptureQueriesContext(connection) as many:
        assert len(_ids(client.get("/api/v1/reports/"))) == 20
    assert len(few) == len(many), [q["sql"] for q in many.captured_queries]


def test_detected_and_occurred_are_stored_in_utc(file_report, reporter):
    report = Report.unscoped.get(pk=file_report(reporter)["id"])
    assert report.detected_at.isoformat() == "2026-03-02T08:15:00+00:00"
    assert DETECTED.endswith("+01:00")
