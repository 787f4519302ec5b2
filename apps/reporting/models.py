from django.conf import settings
from django.db import models

from apps.core.models import UUIDModel
from apps.reporting.choices import ReportChannel, ReportKind, ReportStatus
from apps.response.models import Incident
from apps.tenancy.models import TenantScopedModel


class Report(UUIDModel, TenantScopedModel):
    """What a member noticed: an event, a weakness or a malfunction (A.6.8). It may become (or be linked to)
    an incident, or be marked a duplicate of another report, by an assessment's decision."""

    reference = models.CharField(max_length=40, editable=False)
    kind = models.CharField(max_length=20, choices=ReportKind.choices)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    occurred_at = models.DateTimeField(help_text="When it happened (as far as the reporter knows).")
    detected_at = models.DateTimeField(null=True, blank=True, help_text="When the reporter noticed it.")
    confidential = models.BooleanField(
        default=False, help_text="The reporter's identity is shown only to the tenant's managers."
    )
    status = models.CharField(max_length=20, choices=ReportStatus.choices, default=ReportStatus.NEW)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=20, choices=ReportChannel.choices)
    received_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "reference"], name="reporting_report_tenant_reference"),
            # Target of the composite foreign keys that keep duplicates and decisions inside one tenant.
            models.UniqueConstraint(fields=["tenant", "id"], name="reporting_report_tenant_id"),
            models.CheckConstraint(
                condition=~models.Q(duplicate_of=models.F("id")), name="reporting_report_not_own_duplicate"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="reporting_rep_tenant_created"),
            models.Index(fields=["tenant", "status", "-created_at"], name="reporting_rep_tenant_status"),
            models.Index(fields=["tenant", "reporter", "-created_at"], name="reporting_rep_tenant_reporter"),
            models.Index(fields=["tenant", "incident"], name="reporting_rep_tenant_incident"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"
