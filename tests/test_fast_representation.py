"""FastRepresentationMixin (apps/core/api/fast.py) gives exactly DRF's representation: same keys, values and
types, for incidents with every kind of field set and unset, restricted summaries included, and for evidence
items (identities hidden on a confidential report's attachment included)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from apps.evidence.api.serializers import IDENTITY_FIELDS, EvidenceSerializer
from apps.evidence.selectors import evidence_list
from apps.reporting.models import Report
from apps.response.api.serializers import SUMMARY_FIELDS, IncidentSerializer
from apps.response.models import IncidentTeamMember
from apps.response.selectors import incident_visible, with_team_ids
from apps.tenancy.access import Access
from apps.tenancy.context import activate
from tests.factories import IncidentFactory, UserFactory, make_evidence

pytestmark = pytest.mark.django_db


class DRFIncidentSerializer(IncidentSerializer):
    def to_representation(self, instance):
        data = serializers.ModelSerializer.to_representation(self, instance)
        if getattr(instance, "summary_only", False):
            return {name: value for name, value in data.items() if name in SUMMARY_FIELDS}
        return data


def test_the_fast_representation_is_drfs(tenant, phishing, make_member):
    now = timezone.now()
    bare = IncidentFactory(tenant=tenant)
    full = IncidentFactory(
        tenant=tenant,
        category=phishing,
        owner=UserFactory(),
        status="closed",
        impact="high",
        urgency="low",
        severity="P2",
        personal_data_breach=True,
        regimes=["gdpr", "nis2"],
        affected_data_subjects=12,
        affected_records=0,
        affected_services="mail",
        root_cause="No MFA",
        false_alarm=False,
        close_rationale="Done.",
        contained_at=now + timedelta(hours=1),
        recovered_at=now + timedelta(hours=2),
        closed_at=now + timedelta(days=3, microseconds=5),
        aware_at=now - timedelta(hours=1),
        discovered_at=now - timedelta(days=1),
    )
    IncidentTeamMember.unscoped.create(tenant=tenant, incident=full, user=UserFactory())
    IncidentFactory(tenant=tenant, restricted=True)
    executive = make_member("executive", tenant)  # sees the restricted one as a summary only
    for access in (Access.system([tenant.id]), None):
        with activate(access or _access_of(executive)) as context:
            access = access or context.access
            rows = list(with_team_ids(incident_visible(access=access)).order_by("created_at"))
            assert len(rows) == 3
            context_ = {"access": access}
            fast = IncidentSerializer(rows, many=True, context=context_).data
            drf = DRFIncidentSerializer(rows, many=True, context=context_).data
        assert [dict(row) for row in fast] == [dict(row) for row in drf]
        for fast_row, drf_row in zip(fast, drf, strict=True):
            assert list(fast_row) == list(drf_row)
            assert {k: type(v) for k, v in fast_row.items()} == {k: type(v) for k, v in drf_row.items()}
    assert bare.pk in {row.pk for row in rows}


class DRFEvidenceSerializer(EvidenceSerializer):
    def to_representation(self, instance):
        data = serializers.ModelSerializer.to_representation(self, instance)
        if getattr(instance, "identity_hidden", False):
            data.update(dict.fromkeys(IDENTITY_FIELDS))
        return data


def _same(fast, drf) -> None:
    assert [dict(row) for row in fast] == [dict(row) for row in drf]
    for fast_row, drf_row in zip(fast, drf, strict=True):
        assert list(fast_row) == list(drf_row)
        assert {k: type(v) for k, v in fast_row.items()} == {k: type(v) for k, v in drf_row.items()}


def test_the_fast_representation_of_evidence_is_drfs(tenant, make_member):
    incident = IncidentFactory(tenant=tenant)
    plain = make_evidence(incident)
    make_evidence(
        incident,
        supersedes=plain,
        correction_reason="Wrong export.",
        seal_number="S-1",
        location="Safe 2",
        last_verified_at=timezone.now(),
        last_verification_ok=True,
    )
    reporter = UserFactory()
    report = Report.unscoped.create(
        tenant=tenant,
        reference="REP-1",
        kind="event",
        title="Odd mail",
        confidential=True,
        reporter=reporter,
        occurred_at=timezone.now(),
        received_at=timezone.now(),
    )
    make_evidence(report=report)
    handler = make_member("handler", tenant)  # may not know a confidential report's reporter
    with activate(_access_of(handler)) as context:
        rows = list(evidence_list(access=context.access).select_related(None).order_by("uploaded_at"))
        assert len(rows) == 3
        assert [row.identity_hidden for row in rows] == [False, False, True]
        _same(EvidenceSerializer(rows, many=True).data, DRFEvidenceSerializer(rows, many=True).data)


def _access_of(user):
    from apps.tenancy.access import access_for

    return access_for(user)
