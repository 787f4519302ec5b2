from rest_framework import serializers

from apps.catalog.choices import StepScope, StepUnit
from apps.catalog.models import Category, Regime, RegimeStep
from apps.catalog.selectors import category_visible
from apps.core.api.fields import ScopedPrimaryKeyRelatedField
from apps.core.api.serializers import StrictSerializer
from apps.tenancy.selectors import tenant_list


def _categories(access):
    return category_visible()


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "code", "name", "description", "tenant", "parent", "is_active"]
        read_only_fields = fields


class CategoryCreateSerializer(StrictSerializer):
    tenant = ScopedPrimaryKeyRelatedField(lambda access: tenant_list(access=access))
    code = serializers.SlugField(max_length=80)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    parent = ScopedPrimaryKeyRelatedField(_categories, required=False, allow_null=True, default=None)


class CategoryUpdateSerializer(StrictSerializer):
    """PATCH: the code and the tenant are fixed once created."""

    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    parent = ScopedPrimaryKeyRelatedField(_categories, required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)


STEP_FIELDS = [
    "id",
    "code",
    "name",
    "recipient",
    "trigger",
    "anchor",
    "duration",
    "unit",
    "calendar",
    "citation",
    "confidence",
    "anchor_source",
    "notice",
    "scope",
    "applies_when",
    "holiday_country",
    "weekend_roll",
    "adjustment",
    "notice_contents",
    "notifies_authority",
]


class RegimeStepSerializer(serializers.ModelSerializer):
    """One deadline step, in the api-v1 names (`code` is the step id such as GDPR-2; `anchor` is what the
    clock runs from)."""

    anchor = serializers.CharField(source="clock_anchor", read_only=True)

    class Meta:
        model = RegimeStep
        fields = STEP_FIELDS
        read_only_fields = fields


class RegimeSerializer(serializers.ModelSerializer):
    steps = RegimeStepSerializer(many=True, read_only=True)

    class Meta:
        model = Regime
        fields = [
            "id",
            "code",
            "name",
            "description",
            "tenant",
            "jurisdiction",
            "enabled",
            "ships_enabled",
            "steps",
        ]
        read_only_fields = fields


class RegimeStepCreateSerializer(StrictSerializer):
    code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    recipient = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    trigger = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    anchor = serializers.CharField(
        source="clock_anchor", max_length=80, required=False, allow_blank=True, default=""
    )
    duration = serializers.IntegerField(min_value=0, required=False, allow_null=True, default=None)
    unit = serializers.ChoiceField(choices=StepUnit.choices, default=StepUnit.NONE)
    calendar = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    citation = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    anchor_source = serializers.CharField(max_length=80, default="incident:aware_at")
    notice = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    scope = serializers.ChoiceField(choices=StepScope.choices, default=StepScope.INCIDENT)
    applies_when = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    holiday_country = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    weekend_roll = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    adjustment = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    notice_contents = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    notifies_authority = serializers.BooleanField(default=True)


class RegimeCreateSerializer(StrictSerializer):
    tenant = ScopedPrimaryKeyRelatedField(lambda access: tenant_list(access=access))
    code = serializers.SlugField(max_length=30)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    jurisdiction = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    enabled = serializers.BooleanField(default=True)
    steps = RegimeStepCreateSerializer(many=True, required=False, default=list)


class RegimeUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    jurisdiction = serializers.CharField(max_length=10, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False)
