from rest_framework import serializers

from apps.core.api.fields import ScopedPrimaryKeyRelatedField
from apps.core.api.serializers import StrictModelSerializer
from apps.response.choices import GrantPermission
from apps.response.models import Incident, IncidentUserObjectPermission
from apps.response.selectors import GRANT_CODENAMES
from apps.tenancy.selectors import user_list

# What an executive sees of a need-to-know incident: that it exists, and how bad it is.
SUMMARY_FIELDS = frozenset({"id", "tenant", "reference", "title", "severity", "status", "restricted"})


class IncidentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Incident
        fields = [
            "id",
            "tenant",
            "reference",
            "title",
            "description",
            "status",
            "severity",
            "restricted",
            "owner",
            "personal_data_breach",
            "root_cause",
            "declared_at",
            "closed_at",
            "aware_at",
            "classified_major_at",
            "materiality_determined_at",
            "discovered_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if getattr(instance, "summary_only", False):
            return {name: value for name, value in data.items() if name in SUMMARY_FIELDS}
        return data


_PERMISSION_BY_CODENAME = {codename: name for name, codename in GRANT_CODENAMES.items()}


class IncidentGrantSerializer(StrictModelSerializer):
    user = ScopedPrimaryKeyRelatedField(lambda access: user_list(access=access))
    permission = serializers.ChoiceField(choices=GrantPermission.choices)

    class Meta:
        model = IncidentUserObjectPermission
        fields = ["id", "user", "permission", "granted_by", "created_at"]
        read_only_fields = ["id", "granted_by", "created_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["permission"] = _PERMISSION_BY_CODENAME[instance.permission.codename]
        return data
