from rest_framework import serializers

from apps.core.api.fast import FastRepresentationMixin
from apps.core.api.fields import RecordedChoiceField, ScopedPrimaryKeyRelatedField
from apps.core.api.serializers import StrictModelSerializer, StrictSerializer
from apps.core.identity import shown_actor
from apps.evidence.choices import (
    MANUAL_CUSTODY_ACTION_CHOICES,
    CollectionMethod,
    CustodyAction,
    EvidenceSource,
)
from apps.evidence.models import CustodyEvent, Evidence
from apps.evidence.selectors import evidence_list
from apps.reporting.selectors import report_list
from apps.response.selectors import Need, incident_visible
from apps.tenancy.selectors import user_list

# Who handled an attachment of a confidential report is shown only where its reporter may be known.
IDENTITY_FIELDS = ("collected_by", "uploaded_by")


def _incidents(access):
    return incident_visible(access=access, need=Need.FULL)


def _reports(access):
    return report_list(access=access)


def _people(access):
    return user_list(access=access)


def _evidence(access):
    return evidence_list(access=access)


class EvidenceSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = [
            "id",
            "tenant",
            "incident",
            "report",
            "sha256",
            "size",
            "original_name",
            "declared_content_type",
            "detected_content_type",
            "description",
            "source",
            "source_detail",
            "method",
            "tool",
            "tool_version",
            "collected_by",
            "collected_at",
            "collected_where",
            "uploaded_by",
            "uploaded_at",
            "seal_number",
            "location",
            "supersedes",
            "correction_reason",
            "last_verified_at",
            "last_verification_ok",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if getattr(instance, "identity_hidden", False):
            data.update(dict.fromkeys(IDENTITY_FIELDS))
        return data


class EvidenceCreateSerializer(StrictSerializer):
    """multipart/form-data: the file and what is known of its collection."""

    incident = ScopedPrimaryKeyRelatedField(_incidents, required=False, allow_null=True)
    report = ScopedPrimaryKeyRelatedField(
        _reports, required=False, allow_null=True, help_text="Attach to a report instead (its reporter)."
    )
    file = serializers.FileField(allow_empty_file=False, use_url=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    source = serializers.ChoiceField(
        choices=EvidenceSource.choices, required=False, default=EvidenceSource.SYSTEM
    )
    source_detail = serializers.CharField(required=False, allow_blank=True, max_length=300)
    method = serializers.ChoiceField(
        choices=CollectionMethod.choices, required=False, default=CollectionMethod.OTHER
    )
    tool = serializers.CharField(required=False, allow_blank=True, max_length=200)
    tool_version = serializers.CharField(required=False, allow_blank=True, max_length=100)
    collected_by = ScopedPrimaryKeyRelatedField(_people, required=False, allow_null=True)
    collected_at = serializers.DateTimeField(required=False, allow_null=True)
    collected_where = serializers.CharField(required=False, allow_blank=True, max_length=300)
    seal_number = serializers.CharField(required=False, allow_blank=True, max_length=100)
    location = serializers.CharField(required=False, allow_blank=True, max_length=300)
    supersedes = ScopedPrimaryKeyRelatedField(_evidence, required=False, allow_null=True)
    correction_reason = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class CustodyEventSerializer(StrictModelSerializer):
    action = RecordedChoiceField(choices=MANUAL_CUSTODY_ACTION_CHOICES, recorded=CustodyAction.choices)
    at = serializers.DateTimeField(required=False)

    class Meta:
        model = CustodyEvent
        fields = [
            "id",
            "evidence",
            "action",
            "from_holder",
            "to_holder",
            "purpose",
            "location",
            "at",
            "actor",
            "actor_repr",
            "data",
            "recorded_at",
        ]
        read_only_fields = ["id", "evidence", "actor", "actor_repr", "data", "recorded_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        evidence = self.context.get("evidence") or instance.evidence
        # An entry of the confidential reporter names nobody, for every reader; the others name who acted.
        data["actor"], data["actor_repr"] = shown_actor(
            instance.actor_id, instance.actor_repr, report=evidence.report
        )
        return data


class VerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    sha256_expected = serializers.CharField()
    sha256_actual = serializers.CharField(allow_null=True, help_text="null when the stored file is missing")
    size_expected = serializers.IntegerField()
    size_actual = serializers.IntegerField(allow_null=True)
    verified_at = serializers.DateTimeField()
