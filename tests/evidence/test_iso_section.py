"""ISO/IEC 27001 A.5.28 in the evidence report: what was collected, handled and verified, and the gaps."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.insights.iso27001 import iso27001_report
from apps.insights.period import Period
from apps.tenancy.access import Access
from apps.tenancy.context import activate
from tests.evidence.test_custody import flip_a_byte
from tests.factories import IncidentFactory, TenantFactory, make_evidence

pytestmark = pytest.mark.django_db


def test_control_5_28_reports_evidence_custody_and_integrity(investigator, incident, api_client_for):
    from django.urls import reverse

    intact = make_evidence(incident, content=b"intact")
    broken = make_evidence(incident, content=b"to be broken")
    make_evidence(incident, content=b"never checked")
    make_evidence(IncidentFactory(tenant=TenantFactory()), content=b"another tenant's")
    client = api_client_for(investigator)
    client.post(reverse("evidence-verify", kwargs={"pk": intact.pk}))
    flip_a_byte(broken)
    client.post(reverse("evidence-verify", kwargs={"pk": broken.pk}))
    client.get(reverse("incident-evidence-package", kwargs={"incident_pk": incident.pk}))

    today = timezone.now().date()
    period = Period(first_day=today - timedelta(days=30), last_day=today)
    system = Access.system([incident.tenant_id])
    with activate(system):
        section = next(
            s
            for s in iso27001_report(access=system, tenant_ids=frozenset({incident.tenant_id}), period=period)
            if s.control == "5.28"
        )

    assert "note" not in section.records
    assert section.records["evidence_collected"] == 3
    assert section.records["verifications"] == 2
    assert section.records["failed_verifications"] == 1
    assert section.records["exports"] == 3
    assert section.records["custody_by_action"]["collected"] == 3
    gaps = {gap.code: gap for gap in section.gaps}
    assert gaps["evidence_never_verified"].count == 1
    assert [item["id"] for item in gaps["integrity_failures_unresolved"].items] == [str(broken.pk)]
