"""Four-eyes on one's own access: a role change or new membership that would widen what its requester may
do in a tenant (a tenant admin making itself manager, and so reading confidential reporters) does not take
effect when asked for. It is recorded as a pending MembershipRequest, audited, and applied only when a second
person approves it: another administrator of that tenant's members, or a platform administrator
(apps/tenancy/membership_requests.py). Changes to other people, and narrowing one's own access, apply at
once; single sign-on's group memberships come from the identity provider (actor None) and apply at once.

The rule is decided here once; membership_create and membership_update (apps/tenancy/services.py) ask it
before writing, so the API, the admin site and commands share it."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from apps.core.events import publish
from apps.tenancy.models import Membership, MembershipRequest, MembershipRequestStatus, Tenant
from apps.tenancy.roles import PLATFORM_SCOPES, scopes_of


def held_scopes(*, user, tenant: Tenant) -> frozenset[str]:
    """What `user` may do in `tenant` today: its memberships there and in the tenant's ancestors (a
    membership covers the descendants), and the platform's scopes for a platform administrator."""
    held = PLATFORM_SCOPES if user.is_superuser else frozenset()
    lineage = [part for part in tenant.path.split("/") if part] or [tenant.pk]
    roles = Membership.unscoped.filter(user=user, tenant_id__in=lineage).values_list("role", flat=True)
    return held.union(*(scopes_of(role) for role in roles))


def widens_own_access(*, actor, user, tenant: Tenant, role: str) -> bool:
    """True when `actor` would give itself, in `tenant`, a scope it does not hold there yet."""
    if actor is None or getattr(actor, "pk", None) != user.pk:
        return False
    return not scopes_of(role) <= held_scopes(user=user, tenant=tenant)


def membership_request_open(
    *, actor, user, tenant: Tenant, role: str, membership: Membership | None = None
) -> MembershipRequest:
    """Record the change as pending (inside the caller's transaction) and audit the request."""
    pending = MembershipRequest.unscoped.filter(
        user=user, tenant=tenant, status=MembershipRequestStatus.PENDING
    )
    if pending.exists():
        raise ValidationError(
            {"role": ["A change of your access in this tenant already waits for approval."]}
        )
    previous = membership.role if membership is not None else ""
    request = MembershipRequest.unscoped.create(
        tenant=tenant,
        user=user,
        role=role,
        previous_role=previous,
        requested_by=actor,
    )
    publish(
        verb="membership.change_requested",
        actor=actor,
        target=request,
        tenant_id=tenant.id,
        changes={"role": [previous or None, role]},
        data={
            "user_id": str(user.pk),
            "membership_id": str(membership.pk) if membership is not None else None,
        },
    )
    return request
