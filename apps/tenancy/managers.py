from django.db import models

from apps.tenancy.context import current_context


class TenantManager(models.Manager):
    """Fail-closed default manager: only rows of the tenants in the active context, never without one."""

    use_in_migrations = False

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(tenant_id__in=current_context().tenant_ids)

    def none(self) -> models.QuerySet:
        # An empty queryset reveals nothing; schema generation asks for one outside any request.
        return super().get_queryset().none()


class ReferenceDataManager(models.Manager):
    """Reference data (categories, regimes): the shipped rows (no tenant) are readable by everyone;
    a tenant's own additions only inside that tenant's context. Fails closed like TenantManager."""

    use_in_migrations = False

    def get_queryset(self) -> models.QuerySet:
        tenant_ids = current_context().tenant_ids
        shipped_or_own = models.Q(tenant__isnull=True) | models.Q(tenant_id__in=tenant_ids)
        return super().get_queryset().filter(shipped_or_own)

    def none(self) -> models.QuerySet:
        return super().get_queryset().none()
