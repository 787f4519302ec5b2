from django.core.exceptions import ValidationError
from django.db import models

from apps.core.models import UUIDModel
from apps.tenancy.managers import ReferenceDataManager
from apps.tenancy.models import Tenant


class Category(UUIDModel):
    """Incident taxonomy: the ENISA reference incident classification (RSIT) classes and types are
    shipped (no tenant); a tenant may add its own categories beneath or beside them."""

    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(max_length=80)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField(default=True)

    objects = ReferenceDataManager()
    unscoped = models.Manager()

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="catalog_category_tenant_code"),
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(tenant__isnull=True), name="catalog_category_shipped_code"
            ),
        ]

    def __str__(self) -> str:
        return self.name


def validate_matrix(levels_impact: list[str], levels_urgency: list[str], matrix: dict) -> None:
    missing = [
        f"{impact}×{urgency}"
        for impact in levels_impact
        for urgency in levels_urgency
        if not matrix.get(impact, {}).get(urgency)
    ]
    if missing:
        raise ValidationError({"matrix": [f"No severity for: {', '.join(missing)}."]})


class SeverityMatrix(UUIDModel):
    """Severity from impact × urgency. One shipped default (no tenant); a tenant may have its own."""

    tenant = models.OneToOneField(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    impact_levels = models.JSONField(help_text="Ordered from least to most severe.")
    urgency_levels = models.JSONField(help_text="Ordered from least to most severe.")
    matrix = models.JSONField(help_text='{"<impact>": {"<urgency>": "P1"}}')
    escalate_at = models.CharField(
        max_length=2,
        default="P1",
        help_text="Incidents at or above this severity are escalated to executives.",
    )

    objects = ReferenceDataManager()
    unscoped = models.Manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=models.Q(tenant__isnull=True), name="catalog_matrix_one_default"
            )
        ]

    def __str__(self) -> str:
        return f"Severity matrix of {self.tenant or 'the platform'}"

    def clean(self) -> None:
        validate_matrix(self.impact_levels, self.urgency_levels, self.matrix)
