from rest_framework import serializers

from apps.audit.models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "chain",
            "seq",
            "at",
            "tenant",
            "actor_id",
            "actor_repr",
            "verb",
            "target_type",
            "target_id",
            "target_repr",
            "incident_id",
            "changes",
            "data",
            "channel",
            "ip",
            "user_agent",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields
