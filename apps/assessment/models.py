from django.conf import settings
from django.db import models

from apps.assessment.choices import Decision
from apps.catalog.models import Category
from apps.core.models import UUIDModel
from apps.reporting.models import Report
from apps.response.choices import Severity
from apps.response.models import Incident
from apps.tenancy.models import TenantScopedModel


class Assessment(UUIDModel, TenantScopedModel):
    """One decision on a report (ISO/IEC 27001:2022 A.5.25): who decided what, when and why.

    Append-only (a database trigger refuses UPDATE and DELETE): a re-assessment is a new row, so the
    history of (re)classifications stays as it was decided."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="assessments")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()
    decision = models.CharField(max_length=20, choices=Decision.choices)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    impact = models.CharField(max_length=30, blank=True)
    urgency = models.CharField(max_length=30, blank=True)
    # Derived from impact × urgency through the tenant's matrix at decision time; never typed in.
    severity = models.CharField(max_length=2, choices=Severity.choices, blank=True)
    rationale = models.TextField()
    duplicate_of = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    incident_opened = models.BooleanField(
        default=False, help_text="The incident was opened by this decision (rather than linked)."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rationale__regex=r"\S"), name="assessment_rationale_not_blank"
            ),
            models.CheckConstraint(
                condition=~models.Q(decision=Decision.INCIDENT) | models.Q(incident__isnull=False),
                name="assessment_incident_decision_has_incident",
            ),
            models.CheckConstraint(
                condition=~models.Q(decision=Decision.DUPLICATE) | models.Q(duplicate_of__isnull=False),
                name="assessment_duplicate_decision_has_original",
            ),
            models.CheckConstraint(
                condition=~models.Q(duplicate_of=models.F("report")),
                name="assessment_not_duplicate_of_itself",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "report", "-decided_at"], name="assessment_tenant_report"),
            models.Index(fields=["tenant", "-decided_at"], name="assessment_tenant_decided"),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} ({self.report.reference})"
