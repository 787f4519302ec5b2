from django.contrib.auth import get_user_model

from apps.tenancy.models import Membership, Tenant


def tenant_people(tenant: Tenant, roles: set[str]):
    """Active members holding one of `roles` in the tenant or one of its ancestors (a membership covers
    the tenant's descendants)."""
    ancestors = [part for part in tenant.path.split("/") if part]
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            pk__in=Membership.unscoped.filter(tenant_id__in=ancestors, role__in=roles).values("user_id"),
        )
        .order_by("pk")
    )
