"""One `Access` per request: what the caller may read and do, answered without further queries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import reduce

from django.db.models import Q

from apps.tenancy.context import activate
from apps.tenancy.models import ApiToken, Membership, Tenant
from apps.tenancy.roles import PLATFORM_SCOPES, ROLES, scopes_of


@dataclass(frozen=True)
class Access:
    user_id: object | None
    scopes_by_tenant: Mapping[object, frozenset[str]] = field(default_factory=dict)
    is_superuser: bool = False
    is_service_account: bool = False
    # Tenants a role was assigned in directly (not inherited from a parent): where an admin may act.
    direct_roles: Mapping[object, str] = field(default_factory=dict)

    @property
    def tenant_ids(self) -> frozenset:
        return frozenset(self.scopes_by_tenant)

    def has_scope(self, tenant_id, scope: str) -> bool:
        return scope in self.scopes_by_tenant.get(tenant_id, ())

    def tenants_with(self, scope: str) -> frozenset:
        return frozenset(tid for tid, scopes in self.scopes_by_tenant.items() if scope in scopes)

    def has_any_scope(self, scope: str) -> bool:
        return any(scope in scopes for scopes in self.scopes_by_tenant.values())

    @classmethod
    def system(cls, tenant_ids) -> Access:
        """For Celery tasks and commands acting for the platform inside the given tenants."""
        return cls(user_id=None, scopes_by_tenant=dict.fromkeys(tenant_ids, PLATFORM_SCOPES))


def access_for(user, token: ApiToken | None = None) -> Access:
    """Build the caller's Access in at most two queries (memberships, then the covered subtrees)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Access(user_id=None)
    # A personal token (bound to no tenant) acts as its user, platform administrators included; a
    # tenant-bound token is capped at its tenant and role like any other.
    if user.is_superuser and (token is None or token.tenant_id is None):
        tenant_ids = Tenant.objects.values_list("id", flat=True)
        return Access(
            user_id=user.pk, scopes_by_tenant=dict.fromkeys(tenant_ids, PLATFORM_SCOPES), is_superuser=True
        )

    memberships = Membership.unscoped.filter(user=user).values_list("tenant_id", "tenant__path", "role")
    if token is not None and token.tenant_id is not None:
        memberships = memberships.filter(tenant__path__startswith=token.tenant.path)
    # No tenant yet: the person alone, whom row-level security lets read their own memberships.
    with activate(Access(user_id=user.pk)):
        memberships = list(memberships)
    if not memberships:
        return Access(user_id=user.pk, is_service_account=user.is_service_account)

    covered = reduce(lambda q, m: q | Q(path__startswith=m[1]), memberships, Q())
    scopes_by_tenant: dict[object, frozenset[str]] = {}
    for tenant_id, path in Tenant.objects.filter(covered).values_list("id", "path"):
        # A membership applies to its tenant and descendants; where roles at two levels meet, the union
        # (the wider scopes) wins.
        scopes = frozenset().union(
            *(scopes_of(role) for _, mpath, role in memberships if path.startswith(mpath))
        )
        if token is not None and token.role:
            scopes &= ROLES[token.role].scopes
        scopes_by_tenant[tenant_id] = scopes
    return Access(
        user_id=user.pk,
        scopes_by_tenant=scopes_by_tenant,
        is_service_account=user.is_service_account,
        direct_roles={tenant_id: role for tenant_id, _, role in memberships},
    )
