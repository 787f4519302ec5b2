"""Writes of reference data: a tenant's own incident categories and notification regimes (the shipped
taxonomy and regimes are read-only)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.catalog.choices import StepScope, StepUnit
from apps.catalog.models import Category, Regime, RegimeStep
from apps.core.events import diff, publish, snapshot
from apps.core.validation import validate
from apps.tenancy.access import Access
from apps.tenancy.models import Tenant
from apps.tenancy.roles import Scope

CATEGORY_FIELDS = ["code", "name", "description", "parent_id", "is_active"]
CATEGORY_EDITABLE = {"name", "description", "parent", "is_active"}


def _require_catalog_admin(access: Access, tenant_id) -> None:
    if tenant_id is None:
        raise PermissionDenied("The shipped taxonomy is read-only; add your tenant's own categories instead.")
    if not access.has_scope(tenant_id, Scope.CATALOG_ADMIN):
        raise PermissionDenied("You do not administer this tenant's categories.")


def _check_parent(tenant_id, parent: Category | None, category: Category | None = None) -> None:
    if parent is None:
        return
    if parent.tenant_id not in (None, tenant_id):
        raise ValidationError({"parent": ["Not a category of the shipped taxonomy or this tenant."]})
    ancestor = parent
    while ancestor is not None:
        if category is not None and ancestor.pk == category.pk:
            raise ValidationError({"parent": ["A category cannot be placed under itself."]})
        ancestor = ancestor.parent


@transaction.atomic
def category_create(
    *,
    actor,
    access: Access,
    tenant: Tenant,
    code: str,
    name: str,
    description: str = "",
    parent: Category | None = None,
) -> Category:
    """A tenant's own category. Its code may not reuse a shipped code (nor another of the tenant's)."""
    _require_catalog_admin(access, tenant.id)
    if Category.unscoped.filter(tenant__isnull=True, code=code).exists():
        raise ValidationError({"code": ["This code belongs to the shipped taxonomy; choose another."]})
    if Category.unscoped.filter(tenant=tenant, code=code).exists():
        raise ValidationError({"code": ["This tenant already has a category with this code."]})
    _check_parent(tenant.id, parent)
    category = Category(tenant=tenant, code=code, name=name, description=description, parent=parent)
    validate(category)
    category.save(force_insert=True)
    publish(
        verb="category.created",
        actor=actor,
        target=category,
        tenant_id=tenant.id,
        changes=diff(category, {}, CATEGORY_FIELDS),
    )
    return category


@transaction.atomic
def category_update(*, actor, access: Access, category: Category, **fields) -> Category:
    """Rename, describe, move or (de)activate a tenant's category; its code stays as decisions used it."""
    _require_catalog_admin(access, category.tenant_id)
    unknown = sorted(set(fields) - CATEGORY_EDITABLE)
    if unknown:
        raise ValidationError({name: ["Unknown or read-only field."] for name in unknown})
    category = Category.unscoped.select_for_update().get(pk=category.pk)
    before = snapshot(category, CATEGORY_FIELDS)
    if "parent" in fields:
        _check_parent(category.tenant_id, fields["parent"], category)
    for name, value in fields.items():
        setattr(category, name, value)
    validate(category)
    category.save()
    changes = diff(category, before, CATEGORY_FIELDS)
    if changes:
        publish(
            verb="category.updated",
            actor=actor,
            target=category,
            tenant_id=category.tenant_id,
            changes=changes,
        )
    return category


REGIME_FIELDS = ["code", "name", "description", "jurisdiction", "enabled"]
STEP_FIELDS = [
    "code",
    "name",
    "recipient",
    "trigger",
    "clock_anchor",
    "duration",
    "unit",
    "calendar",
    "citation",
    "anchor_source",
    "notice",
    "scope",
    "applies_when",
    "holiday_country",
    "weekend_roll",
    "adjustment",
    "notice_contents",
    "notifies_authority",
]
_ANCHOR_FIELDS = {"aware_at", "classified_major_at", "materiality_determined_at", "discovered_at"}


def _check_step(data: dict, notices: set[str], index: int) -> None:
    kind, _, name = data.get("anchor_source", "manual").partition(":")
    if not (
        (kind == "incident" and name in _ANCHOR_FIELDS)
        or (kind == "step" and name in notices)
        or data.get("anchor_source") == "manual"
    ):
        raise ValidationError(
            {
                "steps": [
                    f"Step {index} ({data['code']}): anchor_source is incident:<aware_at|classified_major_at|"
                    "materiality_determined_at|discovered_at>, step:<a notice of this regime> or manual."
                ]
            }
        )
    unit, duration = data.get("unit", StepUnit.NONE), data.get("duration")
    if unit != StepUnit.NONE and duration is None:
        raise ValidationError({"steps": [f"Step {index} ({data['code']}): a {unit} step needs a duration."]})


@transaction.atomic
def regime_create(
    *,
    actor,
    access: Access,
    tenant: Tenant,
    code: str,
    name: str,
    description: str = "",
    jurisdiction: str = "",
    enabled: bool = True,
    steps: list[dict] | None = None,
) -> Regime:
    """A tenant's own regime (a customer contract, an internal policy) with its steps. Its code may not
    reuse a shipped one: an incident's `regimes` list names regimes by code."""
    if not access.has_scope(tenant.id, Scope.TENANT_ADMIN):
        raise PermissionDenied("You do not administer this tenant's regimes.")
    regime_code_check(tenant=tenant, code=code)
    steps = steps or []
    codes = [step["code"] for step in steps]
    if len(set(codes)) != len(codes):
        raise ValidationError({"steps": ["Step codes must be unique within the regime."]})
    notices = {step.get("notice") or step["code"] for step in steps}
    for index, step in enumerate(steps):
        _check_step(step, notices, index)
    regime = Regime(
        tenant=tenant,
        code=code,
        name=name,
        description=description,
        jurisdiction=jurisdiction,
        enabled=enabled,
        ships_enabled=enabled,
    )
    validate(regime)
    regime.save(force_insert=True)
    for position, data in enumerate(steps, start=1):
        data = {**data, "notice": data.get("notice") or data["code"]}
        data.setdefault("scope", StepScope.INCIDENT)
        step = RegimeStep(tenant=tenant, regime=regime, position=position, **data)
        validate(step)
        step.save(force_insert=True)
    publish(
        verb="regime.created",
        actor=actor,
        target=regime,
        tenant_id=tenant.id,
        changes=diff(regime, {}, REGIME_FIELDS),
        data={"steps": codes},
    )
    return regime


def regime_code_check(*, tenant: Tenant, code: str) -> None:
    """A tenant's own regime code may not reuse a shipped one, nor one of the tenant's."""
    if Regime.unscoped.filter(tenant__isnull=True, code=code).exists():
        raise ValidationError({"code": ["This code belongs to a shipped regime; choose another."]})
    if Regime.unscoped.filter(tenant=tenant, code=code).exists():
        raise ValidationError({"code": ["This tenant already has a regime with this code."]})


@transaction.atomic
def regime_update(*, actor, access: Access, regime: Regime, **fields) -> Regime:
    """Rename, describe or switch a tenant's own regime on and off (shipped regimes are read-only)."""
    if regime.tenant_id is None:
        raise PermissionDenied("Shipped regimes are read-only; add your tenant's own regime instead.")
    if not access.has_scope(regime.tenant_id, Scope.TENANT_ADMIN):
        raise PermissionDenied("You do not administer this tenant's regimes.")
    unknown = sorted(set(fields) - {"name", "description", "jurisdiction", "enabled"})
    if unknown:
        raise ValidationError({name: ["Unknown or read-only field."] for name in unknown})
    regime = Regime.unscoped.select_for_update().get(pk=regime.pk)
    before = snapshot(regime, REGIME_FIELDS)
    for name, value in fields.items():
        setattr(regime, name, value)
    validate(regime)
    regime.save()
    changes = diff(regime, before, REGIME_FIELDS)
    if changes:
        publish(
            verb="regime.updated", actor=actor, target=regime, tenant_id=regime.tenant_id, changes=changes
        )
    return regime
