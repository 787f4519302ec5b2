from rest_framework import serializers

from apps.audit.models import AuditChainHead, AuditEntry
from apps.core.identity import redact_recorded


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

    def to_representation(self, instance):
        # A row marked confidential names nobody, however old (apps.core.identity).
        data = super().to_representation(instance)
        if instance.confidential:
            shown = redact_recorded({**data, "confidential": True})
            data = {key: shown[key] for key in data}
        return data


class AuditCheckpointSerializer(serializers.ModelSerializer):
    """A signed chain head: `checkpoint` is the exact signed document, `signature` its Ed25519 signature
    (hex); the `document/` and `signature/` downloads give the same bytes as files for openssl."""

    class Meta:
        model = AuditChainHead
        fields = [
            "id",
            "chain",
            "tenant",
            "seq",
            "hash",
            "recorded_at",
            "signing_key",
            "checkpoint",
            "signature",
        ]
        read_only_fields = fields
