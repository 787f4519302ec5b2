import uuid

from rest_framework import serializers

from apps.core.api.fields import ScopedPrimaryKeyRelatedField
from apps.core.api.serializers import StrictSerializer
from apps.reporting.choices import ReportKind
from apps.reporting.models import Report
from apps.reporting.services import report_acknowledgement
from apps.tenancy.selectors import tenant_list


class ReportSerializer(serializers.ModelSerializer):
    """A report as its reader may see it: `reporter` is null when the report is confidential and the reader
    is neither a manager of its tenant nor the reporter (the selector's `reporter_visible`)."""

    reporter = serializers.SerializerMethodField()
    incident = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "tenant",
            "reference",
            "kind",
            "title",
            "description",
            "occurred_at",
            "detected_at",
            "confidential",
            "status",
            "reporter",
            "channel",
            "received_at",
            "acknowledged_at",
            "incident",
            "duplicate_of",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_reporter(self, report) -> str | None:
        # Fail closed: a report read without the selector's annotation hides a confidential reporter.
        visible = getattr(report, "reporter_visible", not report.confidential)
        return str(report.reporter_id) if visible else None

    def get_incident(self, report) -> uuid.UUID | None:
        # Fail closed too: the incident it became only for those who see that incident (the selector).
        return getattr(report, "shown_incident_id", None)


class ReportCreatedSerializer(ReportSerializer):
    acknowledgement = serializers.SerializerMethodField()

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "acknowledgement"]
        read_only_fields = fields

    def get_acknowledgement(self, report) -> str:
        return report_acknowledgement(report=report)


class ReportCreateSerializer(StrictSerializer):
    tenant = ScopedPrimaryKeyRelatedField(lambda access: tenant_list(access=access))
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)
    occurred_at = serializers.DateTimeField()
    detected_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    confidential = serializers.BooleanField(required=False, default=False)
