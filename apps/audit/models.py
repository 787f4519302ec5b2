import hashlib
import json

from django.db import models
from django.utils import timezone

from apps.tenancy.context import current_context
from apps.tenancy.models import Tenant

PLATFORM_CHAIN = "platform"
GENESIS_HASH = "0" * 64


class AuditEntryManager(models.Manager):
    """Scoped like tenant-owned rows; the platform chain (no tenant) is for platform administrators."""

    use_in_migrations = False

    def get_queryset(self):
        context = current_context()
        scope = models.Q(tenant_id__in=context.tenant_ids)
        if context.access.is_superuser:
            scope |= models.Q(tenant__isnull=True)
        return super().get_queryset().filter(scope)

    def none(self):
        return super().get_queryset().none()


class AuditEntry(models.Model):
    """One write: who, when, which tenant, what object, what changed, from where.

    Append-only (a database trigger refuses UPDATE and DELETE) and hash-chained per tenant: each row
    stores the hash of the previous row of its chain, so an edited or removed row breaks the chain. The
    hash is plain SHA-256 (an extract verifies with nothing but the rows); `mac` keys it with the chain key
    the database does not hold (apps/audit/keys.py), so a correctly hashed row appended by anyone with
    write access to the database does not verify. Rows from before the key (migration 0004) have no mac.
    """

    # Row-level security (apps.tenancy.rls): the context's tenants' rows; the platform chain (no tenant) for
    # platform administrators only. The app's role only reads: rows are appended through the database
    # function vigil_audit_append() (apps.audit.services.audit_record), which checks the chain's link.
    rls_platform_rows = True
    rls_read_only = True

    id = models.BigAutoField(primary_key=True)
    chain = models.CharField(max_length=40)
    seq = models.BigIntegerField()
    at = models.DateTimeField()
    tenant = models.ForeignKey(Tenant, null=True, on_delete=models.PROTECT, related_name="+")
    actor_id = models.UUIDField(null=True)
    actor_repr = models.CharField(max_length=150)
    verb = models.CharField(max_length=100)
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=255)
    incident_id = models.UUIDField(null=True)
    changes = models.JSONField(default=dict)
    data = models.JSONField(default=dict)
    channel = models.CharField(max_length=20)
    ip = models.CharField(max_length=45, null=True)  # as received: inet would renormalise and break the hash
    user_agent = models.CharField(max_length=512, blank=True)
    confidential = models.BooleanField(default=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    mac = models.CharField(max_length=64, blank=True, default="")
    mac_key = models.CharField(max_length=16, blank=True, default="")  # the chain key's id (keys.py)

    objects = AuditEntryManager()
    unscoped = models.Manager()

    class Meta:
        verbose_name_plural = "audit entries"
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_entry_chain_seq")]
        indexes = [
            models.Index(fields=["tenant", "-id"]),
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["incident_id", "id"]),
        ]

    def __str__(self) -> str:
        at = timezone.localtime(self.at)  # the active zone (the admin's viewer's), named
        return f"{at:%Y-%m-%d %H:%M:%S %Z} {self.actor_repr} {self.verb} {self.target_repr}"

    def compute_hash(self) -> str:
        payload = {
            "chain": self.chain,
            "seq": self.seq,
            "at": self.at.isoformat(),
            "tenant": str(self.tenant_id) if self.tenant_id else None,
            "actor_id": str(self.actor_id) if self.actor_id else None,
            "actor_repr": self.actor_repr,
            "verb": self.verb,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "target_repr": self.target_repr,
            "incident_id": str(self.incident_id) if self.incident_id else None,
            "changes": self.changes,
            "data": self.data,
            "channel": self.channel,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "confidential": self.confidential,
            "prev_hash": self.prev_hash,
        }
        canonical = json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


class AuditChainHead(models.Model):
    """The head of each chain, recorded daily: a chain cut short below a recorded head shows truncation.

    Each head is also a signed checkpoint (apps/audit/checkpoints.py): `checkpoint` is the exact JSON
    document that was signed, `signature` its Ed25519 signature (hex), both also written to the evidence
    storage (`storage_name`), so an auditor verifies them offline with the public key."""

    rls_platform_rows = True
    rls_read_only = True

    id = models.BigAutoField(primary_key=True)
    chain = models.CharField(max_length=40)
    tenant = models.ForeignKey(Tenant, null=True, on_delete=models.PROTECT, related_name="+")
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    recorded_at = models.DateTimeField(default=timezone.now)
    checkpoint = models.TextField(blank=True, default="")
    signature = models.CharField(max_length=128, blank=True, default="")
    signing_key = models.CharField(max_length=16, blank=True, default="")
    storage_name = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["chain", "-seq"])]

    def __str__(self) -> str:
        return f"{self.chain}@{self.seq}"
