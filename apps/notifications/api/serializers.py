from rest_framework import serializers

from apps.catalog.selectors import regime_step_visible
from apps.core.api.fields import ScopedPrimaryKeyRelatedField
from apps.core.api.serializers import StrictModelSerializer, StrictSerializer
from apps.notifications.models import Authority, Obligation
from apps.response.selectors import Need, incident_visible
from apps.tenancy.selectors import tenant_list


def _incidents(access):
    return incident_visible(access=access, need=Need.FULL)


def _steps(access):
    return regime_step_visible()


class ObligationSerializer(serializers.ModelSerializer):
    """A notice an incident owes. `step` is the step code (e.g. GDPR-2); `status` changes only through the
    submit and waive actions; `overdue` is pending past `due_at`."""

    step = serializers.CharField(source="step.code", read_only=True)
    step_name = serializers.CharField(source="step.name", read_only=True)
    incident_reference = serializers.CharField(source="incident.reference", read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)
    incidents = serializers.SerializerMethodField(
        help_text="The incidents it concerns: its own, or (annual obligations) those collected that you see."
    )
    has_copy = serializers.SerializerMethodField()

    class Meta:
        model = Obligation
        fields = [
            "id",
            "tenant",
            "incident",
            "incident_reference",
            "period_year",
            "incidents",
            "regime",
            "step",
            "step_name",
            "notice",
            "recipient",
            "authority",
            "anchor_at",
            "clock_started_at",
            "due_at",
            "status",
            "overdue",
            "submitted_at",
            "submitted_by",
            "submitted_to",
            "reference",
            "summary",
            "has_copy",
            "copy_name",
            "copy_sha256",
            "copy_size",
            "waived_at",
            "waived_rationale",
            "waived_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_incidents(self, obligation) -> list[str]:
        if obligation.incident_id is not None:
            return [str(obligation.incident_id)]
        collected = getattr(obligation, "visible_collected", None)
        if collected is None:
            collected = obligation.collected.all()
        return [str(link.incident_id) for link in collected]

    def get_has_copy(self, obligation) -> bool:
        return bool(obligation.copy_storage_key)


class ObligationCreateSerializer(StrictSerializer):
    """An on-demand obligation: the incident, the step (its id), and the time its clock runs from."""

    incident = ScopedPrimaryKeyRelatedField(_incidents)
    step = ScopedPrimaryKeyRelatedField(_steps)
    anchor_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    recipient = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ObligationSubmitSerializer(StrictSerializer):
    submitted_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    reference = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="The recipient's case number. A submission needs this or a `summary`.",
    )
    recipient = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text="To whom the notice was sent; empty means the obligation's `recipient` (required if that "
        "is empty too).",
    )
    summary = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=20000,
        help_text="What was sent. A submission needs this or a `reference`.",
    )
    copy = serializers.FileField(
        required=False,
        allow_null=True,
        default=None,
        allow_empty_file=False,
        help_text="The copy of what was sent (multipart); stored once, content-addressed.",
    )


class ObligationAnchorSerializer(StrictSerializer):
    anchor_at = serializers.DateTimeField()
    rationale = serializers.CharField(max_length=5000)


class ObligationWaiveSerializer(StrictSerializer):
    rationale = serializers.CharField(max_length=5000)


class AuthoritySerializer(StrictModelSerializer):
    class Meta:
        model = Authority
        fields = [
            "id",
            "tenant",
            "kind",
            "name",
            "jurisdiction",
            "country",
            "regimes",
            "email",
            "phone",
            "portal_url",
            "notes",
            "last_verified_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "tenant", "created_at", "updated_at"]


class AuthorityCreateSerializer(AuthoritySerializer):
    tenant = ScopedPrimaryKeyRelatedField(lambda access: tenant_list(access=access))

    class Meta(AuthoritySerializer.Meta):
        read_only_fields = ["id", "created_at", "updated_at"]
