from rest_framework import serializers

from apps.core.api.fields import ScopedPrimaryKeyRelatedField
from apps.core.api.serializers import StrictModelSerializer, StrictSerializer
from apps.response.selectors import Need, incident_visible
from apps.reviews.choices import ActionKind
from apps.reviews.models import CorrectiveAction, Review
from apps.tenancy.selectors import user_list

TEXT = {"required": False, "allow_blank": True, "max_length": 20000}


def _people(access):
    return user_list(access=access)


def _incidents(access):
    return incident_visible(access=access, need=Need.FULL)


class ReviewSerializer(serializers.ModelSerializer):
    incident_reference = serializers.CharField(source="incident.reference", read_only=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "tenant",
            "incident",
            "incident_reference",
            "status",
            "timeline_summary",
            "root_cause",
            "contributing_factors",
            "went_well",
            "went_badly",
            "lessons_learned",
            "created_by",
            "approved_by",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReviewUpdateSerializer(StrictSerializer):
    """Every field optional (PATCH). `status` is not here: it changes only through /complete/."""

    timeline_summary = serializers.CharField(**TEXT)
    root_cause = serializers.CharField(**TEXT)
    contributing_factors = serializers.CharField(**TEXT)
    went_well = serializers.CharField(**TEXT)
    went_badly = serializers.CharField(**TEXT)
    lessons_learned = serializers.CharField(**TEXT)


class ReviewCreateSerializer(ReviewUpdateSerializer):
    incident = ScopedPrimaryKeyRelatedField(_incidents)


class CorrectiveActionSerializer(StrictModelSerializer):
    owner = ScopedPrimaryKeyRelatedField(_people, required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=ActionKind.choices, required=False)
    incident = serializers.UUIDField(source="review.incident_id", read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)

    class Meta:
        model = CorrectiveAction
        fields = [
            "id",
            "review",
            "incident",
            "title",
            "description",
            "kind",
            "owner",
            "due_at",
            "status",
            "overdue",
            "verification_note",
            "created_by",
            "completed_at",
            "verified_at",
            "verified_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "review",
            "created_by",
            "completed_at",
            "verified_at",
            "verified_by",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"status": {"required": False}, "verification_note": {"required": False}}


class CorrectiveActionCreateSerializer(CorrectiveActionSerializer):
    """An action starts open; it is verified later, by an approving manager."""

    class Meta(CorrectiveActionSerializer.Meta):
        read_only_fields = [*CorrectiveActionSerializer.Meta.read_only_fields, "status", "verification_note"]


class LessonSerializer(serializers.Serializer):
    """One search hit: the past incident, its review and why it matched (`rank` is null without `q`)."""

    id = serializers.UUIDField()
    incident = serializers.UUIDField(source="incident_id")
    incident_reference = serializers.CharField(source="incident.reference")
    incident_title = serializers.CharField(source="incident.title")
    incident_severity = serializers.CharField(source="incident.severity")
    review = serializers.UUIDField(source="id")
    completed_at = serializers.DateTimeField()
    headline = serializers.CharField()
    rank = serializers.FloatField(allow_null=True)
