"""Deciding four-eyes requests (apps/tenancy/four_eyes.py): who sees them, approval (the change is applied
as the approver's) and refusal. Both decisions are audited."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.events import publish
from apps.tenancy import services
from apps.tenancy.access import Access
from apps.tenancy.models import Membership, MembershipRequest, MembershipRequestStatus
from apps.tenancy.roles import Scope


def membership_request_list(*, access: Access) -> QuerySet[MembershipRequest]:
    """The requests of tenants whose members the caller administers, and the caller's own."""
    if access.is_superuser:
        return MembershipRequest.objects.select_related("tenant", "user", "requested_by", "decided_by")
    return MembershipRequest.objects.filter(
        Q(tenant_id__in=access.tenants_with(Scope.MEMBER_ADMIN)) | Q(user_id=access.user_id)
    ).select_related("tenant", "user", "requested_by", "decided_by")


def _decidable(*, actor, access: Access, request: MembershipRequest) -> MembershipRequest:
    request = MembershipRequest.unscoped.select_for_update().get(pk=request.pk)
    if request.status != MembershipRequestStatus.PENDING:
        raise ValidationError({"status": [f"This request was already {request.status}."]})
    if actor.pk in (request.requested_by_id, request.user_id):
        raise PermissionDenied("A second person decides on a change of one's own access.")
    if not (access.is_superuser or access.has_scope(request.tenant_id, Scope.MEMBER_ADMIN)):
        raise PermissionDenied("Only another administrator of this tenant's members decides this request.")
    return request


def _decided(request: MembershipRequest, *, actor, status: str) -> None:
    request.status, request.decided_by, request.decided_at = status, actor, timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])


@transaction.atomic
def membership_request_approve(*, actor, access: Access, request: MembershipRequest) -> Membership:
    request = _decidable(actor=actor, access=access, request=request)
    data = {"request_id": str(request.pk), "requested_by_id": str(request.requested_by_id)}
    if request.previous_role:
        current = Membership.unscoped.filter(user_id=request.user_id, tenant_id=request.tenant_id).first()
        if current is None:
            raise ValidationError({"membership": ["This membership was removed since the request."]})
        membership = services.membership_update(
            actor=actor, access=access, membership=current, role=request.role, data=data
        )
    else:
        membership = services.membership_create(
            actor=actor, access=access, user=request.user, tenant=request.tenant, role=request.role, data=data
        )
    _decided(request, actor=actor, status=MembershipRequestStatus.APPROVED)
    publish(
        verb="membership.change_approved",
        actor=actor,
        target=request,
        tenant_id=request.tenant_id,
        changes={"status": [MembershipRequestStatus.PENDING, MembershipRequestStatus.APPROVED]},
        data={**data, "user_id": str(request.user_id), "role": request.role},
    )
    return membership


@transaction.atomic
def membership_request_refuse(*, actor, access: Access, request: MembershipRequest) -> MembershipRequest:
    request = _decidable(actor=actor, access=access, request=request)
    _decided(request, actor=actor, status=MembershipRequestStatus.REFUSED)
    publish(
        verb="membership.change_refused",
        actor=actor,
        target=request,
        tenant_id=request.tenant_id,
        changes={"status": [MembershipRequestStatus.PENDING, MembershipRequestStatus.REFUSED]},
        data={
            "request_id": str(request.pk),
            "requested_by_id": str(request.requested_by_id),
            "user_id": str(request.user_id),
            "role": request.role,
        },
    )
    return request
