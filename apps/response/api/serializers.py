from rest_framework import serializers

from apps.catalog.selectors import category_list
from apps.core.api.fast import FastRepresentationMixin
from apps.core.api.fields import RecordedChoiceField, ScopedPrimaryKeyRelatedField
from apps.core.api.serializers import StrictModelSerializer, StrictSerializer
from apps.core.identity import recorded_as_confidential, redact_people
from apps.response.choices import (
    MANUAL_TIMELINE_KIND_CHOICES,
    Direction,
    GrantPermission,
    IncidentStatus,
    OpenActionsDecision,
    TimelineKind,
)
from apps.response.lifecycle import allowed_targets
from apps.response.models import Incident, IncidentUserObjectPermission, ResponseAction, TimelineEntry
from apps.response.selectors import GRANT_CODENAMES, SUMMARY_FIELDS
from apps.response.timeline import timeline_label
from apps.tenancy.selectors import tenant_list, user_list


def _people(access):
    return user_list(access=access)


def _categories(access):
    return category_list()


class IncidentSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    team = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "tenant",
            "reference",
            "title",
            "description",
            "status",
            "allowed_transitions",
            "category",
            "impact",
            "urgency",
            "severity",
            "restricted",
            "owner",
            "team",
            "personal_data_breach",
            "regimes",
            "affected_data_subjects",
            "affected_records",
            "affected_services",
            "root_cause",
            "false_alarm",
            "close_rationale",
            "declared_at",
            "contained_at",
            "recovered_at",
            "closed_at",
            "aware_at",
            "classified_major_at",
            "materiality_determined_at",
            "discovered_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_team(self, incident) -> list[str]:
        return [str(user_id) for user_id in incident.team_ids]  # selectors.with_team_ids

    def get_allowed_transitions(self, incident) -> list[str]:
        return allowed_targets(incident, self.context["access"])

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if getattr(instance, "summary_only", False):
            return {name: value for name, value in data.items() if name in SUMMARY_FIELDS}
        return data


class IncidentDeclareSerializer(StrictSerializer):
    tenant = ScopedPrimaryKeyRelatedField(lambda access: tenant_list(access=access))
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    category = ScopedPrimaryKeyRelatedField(_categories, required=False, allow_null=True)
    impact = serializers.CharField(max_length=30)
    urgency = serializers.CharField(max_length=30)
    restricted = serializers.BooleanField(required=False, default=False)
    owner = ScopedPrimaryKeyRelatedField(_people, required=False, allow_null=True)
    aware_at = serializers.DateTimeField(required=False, allow_null=True)


class IncidentUpdateSerializer(StrictSerializer):
    """Every field optional (PATCH); who may change which is the service's rule."""

    title = serializers.CharField(max_length=300, required=False)
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    category = ScopedPrimaryKeyRelatedField(_categories, required=False, allow_null=True)
    impact = serializers.CharField(max_length=30, required=False)
    urgency = serializers.CharField(max_length=30, required=False)
    root_cause = serializers.CharField(max_length=500, required=False, allow_blank=True)
    owner = ScopedPrimaryKeyRelatedField(_people, required=False, allow_null=True)
    team = ScopedPrimaryKeyRelatedField(_people, many=True, required=False)
    restricted = serializers.BooleanField(required=False)
    personal_data_breach = serializers.BooleanField(required=False)
    regimes = serializers.ListField(child=serializers.SlugField(max_length=30), required=False, max_length=30)
    affected_data_subjects = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    affected_records = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    affected_services = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    aware_at = serializers.DateTimeField(required=False, allow_null=True)
    classified_major_at = serializers.DateTimeField(required=False, allow_null=True)
    materiality_determined_at = serializers.DateTimeField(required=False, allow_null=True)
    discovered_at = serializers.DateTimeField(required=False, allow_null=True)
    rationale = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, help_text="Why regimes were added or removed."
    )


class TransitionSerializer(StrictSerializer):
    to = serializers.ChoiceField(choices=IncidentStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    open_actions = serializers.ChoiceField(
        choices=OpenActionsDecision.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Closing only, when response actions are still open: complete them, cancel them (with "
        "a `reason`) or carry them over to the post-incident review's corrective actions. Without it such "
        "a close is refused (409, the open actions listed).",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=5000,
        help_text="Why the open actions are cancelled (required with `open_actions: cancel`).",
    )


class OpenActionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    assignee = serializers.UUIDField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)


class TransitionConflictSerializer(serializers.Serializer):
    """The 409 of a move not allowed now: the reason, and for a close with open actions their list."""

    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="`transition_not_allowed`: not a move from this status; `blocked`: something must be put "
        "right first (see `fix`); `open_actions`: the close waits for a decision on the actions listed; "
        "`closed`: the incident is closed."
    )
    fix = serializers.CharField(
        required=False, help_text="Where a `blocked` move is put right, e.g. `root_cause` or `review`."
    )
    open_actions = OpenActionSerializer(many=True, required=False)


class TimelineEntrySerializer(StrictModelSerializer):
    kind = RecordedChoiceField(choices=MANUAL_TIMELINE_KIND_CHOICES, recorded=TimelineKind.choices)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False, allow_blank=True)
    at = serializers.DateTimeField(required=False)
    label = serializers.SerializerMethodField(
        help_text="The entry in words: what happened to which object, with status names (as on the page)."
    )

    class Meta:
        model = TimelineEntry
        fields = [
            "id",
            "at",
            "kind",
            "verb",
            "actor",
            "actor_repr",
            "summary",
            "label",
            "data",
            "direction",
            "counterpart",
            "channel",
            "recorded_at",
        ]
        read_only_fields = ["id", "verb", "actor", "actor_repr", "data", "recorded_at"]

    def get_label(self, entry) -> str:
        return timeline_label(entry)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # An older entry of a confidential reporter's act kept their id in its data (apps.core.identity).
        if recorded_as_confidential(actor_id=instance.actor_id, actor_repr=instance.actor_repr):
            data["data"] = redact_people(data["data"])
        return data


class ResponseActionSerializer(StrictModelSerializer):
    assignee = ScopedPrimaryKeyRelatedField(_people, required=False, allow_null=True)

    class Meta:
        model = ResponseAction
        fields = [
            "id",
            "incident",
            "title",
            "description",
            "assignee",
            "due_at",
            "status",
            "created_by",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "incident", "created_by", "completed_at", "created_at", "updated_at"]
        extra_kwargs = {"status": {"required": False}}


_PERMISSION_BY_CODENAME = {codename: name for name, codename in GRANT_CODENAMES.items()}


class IncidentGrantSerializer(StrictModelSerializer):
    user = ScopedPrimaryKeyRelatedField(_people)
    permission = serializers.ChoiceField(choices=GrantPermission.choices)

    class Meta:
        model = IncidentUserObjectPermission
        fields = ["id", "user", "permission", "granted_by", "created_at"]
        read_only_fields = ["id", "granted_by", "created_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["permission"] = _PERMISSION_BY_CODENAME[instance.permission.codename]
        return data


class ResponseActionCreateSerializer(ResponseActionSerializer):
    class Meta(ResponseActionSerializer.Meta):
        read_only_fields = [*ResponseActionSerializer.Meta.read_only_fields, "status"]
