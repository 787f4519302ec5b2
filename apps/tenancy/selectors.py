"""Reads for tenants, people and memberships, always through the caller's Access."""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from apps.tenancy.access import Access
from apps.tenancy.context import current_context
from apps.tenancy.models import Membership, Outsider, Tenant
from apps.tenancy.roles import Scope

User = get_user_model()


def tenant_list(*, access: Access) -> QuerySet[Tenant]:
    return Tenant.objects.filter(id__in=current_context().tenant_ids & access.tenants_with(Scope.TENANT_READ))


def membership_list(*, access: Access) -> QuerySet[Membership]:
    readable = access.tenants_with(Scope.MEMBER_READ)
    return Membership.objects.filter(Q(tenant_id__in=readable) | Q(user_id=access.user_id)).select_related(
        "tenant", "user"
    )


def user_list(*, access: Access) -> QuerySet:
    """People the caller may see: members and outsiders of tenants whose members it may read, and itself."""
    if access.is_superuser:
        return User.objects.all()
    readable = current_context().tenant_ids & access.tenants_with(Scope.MEMBER_READ)
    member = Membership.unscoped.filter(user_id=OuterRef("pk"), tenant_id__in=readable)
    outsider = Outsider.unscoped.filter(user_id=OuterRef("pk"), tenant_id__in=readable)
    return User.objects.filter(Exists(member) | Exists(outsider) | Q(pk=access.user_id))
