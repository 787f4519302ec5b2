from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TenancyConfig(AppConfig):
    name = "apps.tenancy"
    label = "tenancy"

    def ready(self) -> None:
        post_migrate.connect(_apply_row_level_security, sender=self, dispatch_uid="vigil_rls")


def _apply_row_level_security(*, using, **_) -> None:
    from django.db import connections

    from apps.tenancy import rls

    # post_migrate also follows `flush` (transactional tests), run as the runtime role: only the owner
    # applies policies and grants.
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_userbyid(relowner) = current_user FROM pg_class WHERE relname = 'tenancy_tenant'"
        )
        row = cursor.fetchone()
    if row and row[0]:
        rls.apply(using=using)
