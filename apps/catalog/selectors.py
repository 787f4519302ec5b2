from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet

from apps.catalog.models import Category, Regime, RegimeStep, SeverityMatrix


def category_list() -> QuerySet[Category]:
    """Shipped categories and those of the tenants in context."""
    return Category.objects.filter(is_active=True).select_related("parent")


def severity_matrix_for(*, tenant_id) -> SeverityMatrix:
    """The tenant's own matrix, or the shipped default."""
    candidates = SeverityMatrix.unscoped.filter(Q(tenant_id=tenant_id) | Q(tenant__isnull=True))
    # The tenant's own first: NULLs sort last in ascending order on PostgreSQL.
    matrix = candidates.order_by("tenant_id").first()
    if matrix is None:
        raise RuntimeError("The shipped severity matrix is missing: run the catalog migrations")
    return matrix


def severity_for(*, tenant_id, impact: str, urgency: str) -> str:
    """Severity is derived, never typed in: impact × urgency through the tenant's matrix."""
    matrix = severity_matrix_for(tenant_id=tenant_id)
    errors = {}
    if impact not in matrix.impact_levels:
        errors["impact"] = [f"One of: {', '.join(matrix.impact_levels)}."]
    if urgency not in matrix.urgency_levels:
        errors["urgency"] = [f"One of: {', '.join(matrix.urgency_levels)}."]
    if errors:
        raise ValidationError(errors)
    return matrix.matrix[impact][urgency]


SEVERITY_ORDER = ["P1", "P2", "P3", "P4"]


def is_at_or_above(severity: str, threshold: str) -> bool:
    return SEVERITY_ORDER.index(severity) <= SEVERITY_ORDER.index(threshold)


def category_visible() -> QuerySet[Category]:
    """Every category the caller may read (inactive ones included: admins manage them)."""
    return Category.objects.all()


def regime_visible() -> QuerySet[Regime]:
    """The shipped regimes and the caller's tenants' own, each with its steps in deadlines.csv order."""
    return Regime.objects.prefetch_related(
        Prefetch("steps", queryset=RegimeStep.unscoped.order_by("position", "code"))
    )


def regime_codes_for(*, tenant_id) -> set[str]:
    """The regime codes an incident of this tenant may be placed under: the shipped ones and the tenant's
    own (disabled ones included: an incident may still be recorded under them)."""
    return set(
        Regime.unscoped.filter(Q(tenant__isnull=True) | Q(tenant_id=tenant_id)).values_list("code", flat=True)
    )


def regime_step_visible() -> QuerySet[RegimeStep]:
    return RegimeStep.objects.select_related("regime")
