"""Reads for tenants, people and memberships, always through the caller's Access."""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from apps.tenancy.access import Access
from apps.tenancy.context import current_context
from apps.tenancy.models import ApiToken, Membership, Outsider, Tenant
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


TOKEN_LIST_FIELDS = ["id", "name", "key_prefix", "tenant", "role", "created_at", "expires_at", "last_used_at"]


def token_list_own(*, user) -> QuerySet[ApiToken]:
    """The person's own tokens that still sign in (ApiToken.live_q), never their hashes."""
    return ApiToken.objects.filter(ApiToken.live_q(), user=user).only(*TOKEN_LIST_FIELDS)
