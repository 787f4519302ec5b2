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
