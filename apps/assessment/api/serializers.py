from rest_framework import serializers

from apps.assessment.choices import Decision
from apps.assessment.models import Assessment
from apps.catalog.selectors import category_list
from apps.core.api.fields import ScopedPrimaryKeyRelatedField
from apps.core.api.serializers import StrictSerializer
from apps.reporting.selectors import report_list
from apps.response.choices import Severity
from apps.response.selectors import Need, incident_visible


class AssessmentSerializer(serializers.ModelSerializer):
    # Blank unless the decision opened or linked an incident (DRF drops allow_blank from generated
    # read-only fields, and the schema then denied the blank that `not_incident` decisions carry).
    severity = serializers.ChoiceField(choices=Severity.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "report",
            "decision",
            "category",
            "impact",
            "urgency",
            "severity",
            "rationale",
            "duplicate_of",
            "incident",
            "incident_opened",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields


class AssessmentCreateSerializer(StrictSerializer):
    """The decision as typed in: severity is not among the fields (it is derived)."""

    decision = serializers.ChoiceField(choices=Decision.choices)
    rationale = serializers.CharField(max_length=20000)  # blank is refused
    category = ScopedPrimaryKeyRelatedField(lambda access: category_list(), required=False, allow_null=True)
    impact = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    urgency = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    duplicate_of = ScopedPrimaryKeyRelatedField(
        lambda access: report_list(access=access), required=False, allow_null=True
    )
    incident = ScopedPrimaryKeyRelatedField(
        lambda access: incident_visible(access=access, need=Need.FULL), required=False, allow_null=True
    )
