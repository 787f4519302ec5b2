from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.models import UUIDModel
from apps.evidence.choices import CollectionMethod, CustodyAction, EvidenceSource
from apps.reporting.models import Report
from apps.response.models import Incident
from apps.tenancy.models import TenantScopedModel

SHA256_HEX = r"^[0-9a-f]{64}$"


class Evidence(UUIDModel, TenantScopedModel):
    """One item of digital evidence (ISO/IEC 27037): of an incident, or attached to a report (and then of
    the incident the report is assessed into, too).

    Its bytes are content-addressed in the "evidence" storage and never rewritten; the row itself is
    append-only in the database (a trigger refuses DELETE and any UPDATE but the verification fields and a
    report attachment's one move into an incident).
    A correction is a new item that `supersedes` the old one.
    """

    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the bytes at acquisition (hex).")
    size = models.PositiveBigIntegerField()
    storage_key = models.CharField(max_length=300, help_text="Where the bytes are, in the evidence storage.")
    original_name = models.CharField(max_length=255)
    declared_content_type = models.CharField(max_length=255, blank=True)
    detected_content_type = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=20, choices=EvidenceSource.choices)
    source_detail = models.CharField(
        max_length=300, blank=True, help_text="Which system, host or person (name, hostname, address …)."
    )
    method = models.CharField(max_length=20, choices=CollectionMethod.choices, default=CollectionMethod.OTHER)
    tool = models.CharField(max_length=200, blank=True)
    tool_version = models.CharField(max_length=100, blank=True)
    collected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    collected_at = models.DateTimeField()
    collected_where = models.CharField(max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()
    seal_number = models.CharField(max_length=100, blank=True)
    location = models.CharField(max_length=300, blank=True, help_text="Where the original is kept.")
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    correction_reason = models.TextField(blank=True)
    # The only columns the database lets change: the latest re-verification of the stored bytes.
    last_verified_at = models.DateTimeField(null=True, blank=True)
    last_verification_ok = models.BooleanField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "evidence"
        constraints = [
            # A report's attachment joins its report's incident once assessed: then both are set.
            models.CheckConstraint(
                condition=models.Q(incident__isnull=False) | models.Q(report__isnull=False),
                name="evidence_of_incident_or_report",
            ),
            models.CheckConstraint(condition=models.Q(sha256__regex=SHA256_HEX), name="evidence_sha256_hex"),
            models.CheckConstraint(condition=models.Q(size__gt=0), name="evidence_not_empty"),
            models.CheckConstraint(
                condition=~models.Q(supersedes=models.F("id")), name="evidence_not_own_correction"
            ),
            # Target of the composite foreign keys (corrections, custody) that keep links in one tenant.
            models.UniqueConstraint(fields=["tenant", "id"], name="evidence_evidence_tenant_id"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-uploaded_at", "-id"], name="evidence_tenant_uploaded"),
            # The list across many tenants, newest first, read in index order (issue 7).
            models.Index(fields=["-uploaded_at", "-id"], name="evidence_uploaded"),
            models.Index(fields=["tenant", "incident", "uploaded_at"], name="evidence_incident"),
            models.Index(fields=["tenant", "report"], name="evidence_report"),
            models.Index(fields=["sha256"], name="evidence_sha256"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]}…)"


class CustodyEvent(UUIDModel, TenantScopedModel):
    """One entry of an item's chain of custody. Append-only (a database trigger refuses changes)."""

    # Row-level security (apps.tenancy.rls): an outsider granted the incident reads and adds to the custody
    # of its evidence (a download is recorded on the item's log).
    granted_through = "evidence"

    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="custody")
    action = models.CharField(max_length=20, choices=CustodyAction.choices)
    from_holder = models.CharField(max_length=300, blank=True)
    to_holder = models.CharField(max_length=300, blank=True)
    purpose = models.CharField(max_length=500, blank=True)
    location = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_repr = models.CharField(max_length=150)
    data = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "evidence", "at"], name="evidence_custody_at")]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M %Z} {self.action} {self.evidence_id}"


class IntegritySweep(models.Model):
    """Where the integrity sweep stopped (one row): it resumes after `position`, in id order, and wraps
    around at the end. Platform-level state of a system job, not a tenant's row."""

    name = models.CharField(max_length=40, primary_key=True)
    position = models.UUIDField(null=True, blank=True)
    pass_started_at = models.DateTimeField(null=True, blank=True)
    passes_completed = models.PositiveIntegerField(default=0)
    last_pass_completed_at = models.DateTimeField(null=True, blank=True)
    items_checked = models.PositiveBigIntegerField(default=0)
    failures_found = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.position or 'start'}"
