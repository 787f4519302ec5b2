from django.core.exceptions import ValidationError
from django.db import models

from apps.catalog.choices import Confidence, StepScope, StepUnit
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
        verbose_name_plural = "severity matrices"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=models.Q(tenant__isnull=True), name="catalog_matrix_one_default"
            )
        ]

    def __str__(self) -> str:
        return f"Severity matrix of {self.tenant or 'the platform'}"

    def clean(self) -> None:
        validate_matrix(self.impact_levels, self.urgency_levels, self.matrix)


class Regime(UUIDModel):
    """A notification regime (GDPR, NIS2, DORA …). Shipped regimes (no tenant) are built from
    deadlines.csv by migration; a tenant may add its own (customer contracts, internal policy), whose
    codes may not reuse a shipped one. Regimes are data, not code branches (design rule 7)."""

    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(max_length=30)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    jurisdiction = models.CharField(
        max_length=10,
        blank=True,
        help_text="Where the regime is law: an ISO 3166-1 alpha-2 code, EU, or blank (contractual).",
    )
    enabled = models.BooleanField(default=True)
    ships_enabled = models.BooleanField(
        default=True, help_text="As shipped (CIRCIA and India's DPDP are not in force yet: shipped disabled)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReferenceDataManager()
    unscoped = models.Manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="catalog_regime_tenant_code"),
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(tenant__isnull=True), name="catalog_regime_shipped_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class RegimeStep(UUIDModel):
    """One row of deadlines.csv: a notice to send (or guidance), its clock and its legal source.

    `tenant` repeats the regime's (null for shipped steps) so the reference-data manager scopes steps
    exactly like their regime."""

    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    regime = models.ForeignKey(Regime, on_delete=models.CASCADE, related_name="steps")
    code = models.CharField(max_length=40, help_text="The step id, e.g. GDPR-2.")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=200)
    recipient = models.CharField(max_length=300, blank=True)
    trigger = models.CharField(max_length=300, blank=True)
    clock_anchor = models.CharField(max_length=80, blank=True, help_text="What the period runs from.")
    duration = models.PositiveIntegerField(null=True, blank=True)
    unit = models.CharField(max_length=20, choices=StepUnit.choices, default=StepUnit.NONE)
    calendar = models.CharField(max_length=300, blank=True)
    citation = models.CharField(max_length=300, blank=True)
    confidence = models.CharField(max_length=1, choices=Confidence.choices, blank=True)
    anchor_source = models.CharField(
        max_length=80,
        default="manual",
        help_text="incident:<anchor field>, step:<notice> (its submission) or manual.",
    )
    notice = models.CharField(max_length=60, help_text="Steps sharing a notice are one obligation.")
    scope = models.CharField(max_length=20, choices=StepScope.choices, default=StepScope.INCIDENT)
    applies_when = models.CharField(max_length=300, blank=True, help_text="Empty: always.")
    holiday_country = models.CharField(
        max_length=20, blank=True, help_text="US, BR …; member_state or tenant: the tenant's country."
    )
    weekend_roll = models.CharField(max_length=60, blank=True)
    adjustment = models.CharField(max_length=300, blank=True)
    notice_contents = models.TextField(blank=True, help_text="What the notice must contain.")
    notifies_authority = models.BooleanField(
        default=True, help_text="Sent to an authority (the tenant's authorities can be named as recipient)."
    )

    objects = ReferenceDataManager()
    unscoped = models.Manager()

    class Meta:
        ordering = ["regime", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["regime", "code"], name="catalog_regimestep_regime_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
