"""The admin site shows times in the viewer's department's zone, with the zone named beside each time."""

import re
from datetime import UTC, datetime

import pytest

from apps.audit.models import AuditEntry
from tests.factories import IncidentFactory, MembershipFactory, TenantFactory

WINTER = datetime(2026, 12, 4, 13, 5, tzinfo=UTC)
SUMMER = datetime(2026, 7, 14, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("declared_at", "shown"), [(WINTER, "4 Dec 2026, 14:05 CET"), (SUMMER, "14 Jul 2026, 10:30 CEST")]
)
def test_a_manager_reads_the_departments_time_with_its_zone(
    manager, tenant, verified_client_for, declared_at, shown
):
    incident = IncidentFactory(tenant=tenant, declared_at=declared_at)
    client = verified_client_for(manager)

    listed = client.get("/admin/response/incident/")
    page = client.get(f"/admin/response/incident/{incident.pk}/change/")

    assert tenant.time_zone == "Europe/Paris"
    assert shown in listed.content.decode()
    assert shown in page.content.decode()


def test_a_platform_administrator_reads_the_platforms_zone_named(superuser, tenant, verified_client_for):
    incident = IncidentFactory(tenant=tenant, declared_at=WINTER)

    page = verified_client_for(superuser).get(f"/admin/response/incident/{incident.pk}/change/")

    assert "4 Dec 2026, 13:05 UTC" in page.content.decode()


def test_a_member_of_departments_in_two_zones_reads_the_platforms_zone(
    make_member, tenant, verified_client_for
):
    new_york = TenantFactory(name="US desk", time_zone="America/New_York")
    executive = make_member("executive", tenant)
    MembershipFactory(user=executive, tenant=new_york, role="executive")
    IncidentFactory(tenant=new_york, declared_at=WINTER)

    listed = verified_client_for(executive).get("/admin/response/incident/")

    assert "4 Dec 2026, 13:05 UTC" in listed.content.decode()


def test_audit_entries_are_listed_in_the_departments_zone(make_member, tenant, declare, verified_client_for):
    auditor = make_member("auditor", tenant)
    declare()

    listed = verified_client_for(auditor).get("/admin/audit/auditentry/")

    assert "incident.declared" in listed.content.decode()
    assert re.search(r"\d{4}, \d\d:\d\d CES?T<", listed.content.decode())


def test_an_audit_entry_is_titled_with_its_zoned_time(make_member, tenant, declare, verified_client_for):
    auditor = make_member("auditor", tenant)
    declare()
    entry = AuditEntry.unscoped.get(verb="incident.declared")

    page = verified_client_for(auditor).get(f"/admin/audit/auditentry/{entry.pk}/change/").content.decode()

    assert re.search(r"<h2>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CES?T \S+ incident.declared ", page)
