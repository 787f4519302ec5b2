"""Writes of reference data: a tenant's own incident categories (the shipped taxonomy is read-only)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.catalog.models import Category
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
