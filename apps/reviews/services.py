"""Writes of reviews and their corrective/preventive actions (design.md rules 4 and 5)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.errors import Conflict
from apps.core.events import diff, publish, snapshot
from apps.core.validation import validate
from apps.response.models import Incident
from apps.reviews.choices import (
    CORRECTIVE_ACTION_TRANSITIONS,
    ActionKind,
    CorrectiveActionStatus,
    ReviewStatus,
)
from apps.reviews.models import CorrectiveAction, Review
from apps.tenancy.access import Access
from apps.tenancy.models import Membership, Tenant
from apps.tenancy.roles import Scope

REVIEW_TEXT_FIELDS = [
    "timeline_summary",
    "root_cause",
    "contributing_factors",
    "went_well",
    "went_badly",
    "lessons_learned",
]
ACTION_FIELDS = [
    "title",
    "description",
    "kind",
    "owner_id",
    "due_at",
    "status",
    "verification_note",
]
# What the owner of an action (a handler or investigator without review rights) may change on it.
OWNER_EDITABLE = {"status", "description"}
OWNER_STATUSES = {
    CorrectiveActionStatus.OPEN,
    CorrectiveActionStatus.IN_PROGRESS,
    CorrectiveActionStatus.DONE,
}


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def _unknown_fields(fields, allowed) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError({name: ["Unknown or read-only field."] for name in unknown})


@transaction.atomic
def review_create(*, actor, access: Access, incident: Incident, **texts) -> Review:
    """Open the (one) post-incident review of an incident, as a draft. Closed incidents may still be
    reviewed: the review is not one of the incident's own (frozen) fields."""
    _require(
        access.has_scope(incident.tenant_id, Scope.REVIEW_WRITE), "You may not write reviews in this tenant."
    )
    _unknown_fields(texts, REVIEW_TEXT_FIELDS)
    if Review.unscoped.filter(incident_id=incident.pk).exists():
        raise ValidationError({"incident": ["This incident already has a review."]})
    review = Review(tenant_id=incident.tenant_id, incident=incident, created_by=actor, **texts)
    validate(review)
    review.save(force_insert=True)
    publish(
        verb="review.created",
        actor=actor,
        target=review,
        tenant_id=review.tenant_id,
        incident_id=incident.pk,
        changes=diff(review, {}, [*REVIEW_TEXT_FIELDS, "status"]),
    )
    return review


def _lock_review(review_id) -> Review:
    return Review.unscoped.select_for_update().get(pk=review_id)


@transaction.atomic
def review_update(*, actor, access: Access, review: Review, **texts) -> Review:
    """Edit a draft review's text. `status` never changes here (see review_complete)."""
    _require(access.has_scope(review.tenant_id, Scope.REVIEW_WRITE), "You may not write this review.")
    _unknown_fields(texts, REVIEW_TEXT_FIELDS)
    review = _lock_review(review.pk)
    if review.status == ReviewStatus.COMPLETED:
        raise Conflict("A completed review is frozen; its text can no longer change.")
    before = snapshot(review, REVIEW_TEXT_FIELDS)
    for name, value in texts.items():
        setattr(review, name, value)
    validate(review)
    review.save()
    changes = diff(review, before, REVIEW_TEXT_FIELDS)
    if changes:
        publish(
            verb="review.updated",
            actor=actor,
            target=review,
            tenant_id=review.tenant_id,
            incident_id=review.incident_id,
            changes=changes,
        )
    return review


@transaction.atomic
def review_complete(*, actor, access: Access, review: Review) -> Review:
    """Approve the review (draft → completed): an approving manager, and a root cause and lessons learned
    written down. Raises Conflict (409) with the reason when it cannot complete now."""
    _require(access.has_scope(review.tenant_id, Scope.REVIEW_APPROVE), "Your role may not approve reviews.")
    review = _lock_review(review.pk)
    if review.status == ReviewStatus.COMPLETED:
        raise Conflict("This review is already completed.")
    missing = [name for name in ("root_cause", "lessons_learned") if not getattr(review, name).strip()]
    if missing:
        raise Conflict(f"A review completes only with its {' and '.join(missing)} written down.")
    review.status = ReviewStatus.COMPLETED
    review.approved_by = actor
    review.completed_at = timezone.now()
    review.save(update_fields=["status", "approved_by", "completed_at", "updated_at"])
    publish(
        verb="review.completed",
        actor=actor,
        target=review,
        tenant_id=review.tenant_id,
        incident_id=review.incident_id,
        changes={"status": [ReviewStatus.DRAFT, ReviewStatus.COMPLETED]},
    )
    return review


def owners_among(user_ids, tenant_id) -> set:
    """Those of `user_ids` who may own an action: members of the incident's tenant (a membership of an
    ancestor covers it). Two queries however many people are asked about."""
    if not user_ids:
        return set()
    path = Tenant.objects.filter(pk=tenant_id).values_list("path", flat=True).first() or ""
    covering = [part for part in path.split("/") if part]
    members = Membership.unscoped.filter(user_id__in=user_ids, tenant_id__in=covering)
    return set(members.values_list("user_id", flat=True))


def may_own_actions(user, tenant_id) -> bool:
    return user.pk in owners_among([user.pk], tenant_id)


def _validate_owner(owner, tenant_id) -> None:
    if owner is not None and not may_own_actions(owner, tenant_id):
        raise ValidationError({"owner": ["The owner must be a member of the incident's tenant."]})


@transaction.atomic
def corrective_action_create(
    *,
    actor,
    access: Access,
    review: Review,
    title: str,
    description: str = "",
    kind: str = ActionKind.CORRECTIVE,
    owner=None,
    due_at=None,
) -> CorrectiveAction:
    """A corrective or preventive action of a review; it starts open. Completed reviews still take new
    actions (their text is frozen, not their follow-up), and so do reviews of closed incidents."""
    _require(
        access.has_scope(review.tenant_id, Scope.REVIEW_WRITE),
        "You may not add actions to this review.",
    )
    _validate_owner(owner, review.tenant_id)
    action = CorrectiveAction(
        tenant_id=review.tenant_id,
        review=review,
        title=title,
        description=description,
        kind=kind,
        owner=owner,
        due_at=due_at,
        created_by=actor,
    )
    validate(action)
    action.save(force_insert=True)
    publish(
        verb="corrective_action.created",
        actor=actor,
        target=action,
        tenant_id=action.tenant_id,
        incident_id=review.incident_id,
        changes=diff(action, {}, ACTION_FIELDS),
    )
    return action


def _may_change(access: Access, actor, action: CorrectiveAction, fields: dict) -> None:
    """Managers (review:write) steer every field; the action's owner, if a handler or investigator,
    moves its own work along (status up to done, description). Verifying effectiveness is an approving
    manager's (review:approve)."""
    tenant_id = action.tenant_id
    verifying = fields.get("status") == CorrectiveActionStatus.VERIFIED or "verification_note" in fields
    if verifying:
        _require(
            access.has_scope(tenant_id, Scope.REVIEW_APPROVE),
            "Only an approving manager may verify an action's effectiveness.",
        )
    if access.has_scope(tenant_id, Scope.REVIEW_WRITE):
        return
    is_owner = actor is not None and action.owner_id is not None and action.owner_id == actor.pk
    _require(
        is_owner and access.has_scope(tenant_id, Scope.INCIDENT_WRITE),
        "You may update only the corrective actions you own.",
    )
    for name in fields:
        _require(name in OWNER_EDITABLE, f"You may not change `{name}`.")
    if "status" in fields:
        _require(fields["status"] in OWNER_STATUSES, f"You may not set the status to {fields['status']}.")


@transaction.atomic
def corrective_action_update(
    *, actor, access: Access, action: CorrectiveAction, **fields
) -> CorrectiveAction:
    """Edit an action or move its status along its transitions (a disallowed move is a 400 on `status`).
    The incident's freeze does not apply: actions are tracked to closure after the incident closes."""
    _unknown_fields(fields, [name.removesuffix("_id") for name in ACTION_FIELDS])
    action = (
        CorrectiveAction.unscoped.select_related("review").select_for_update(of=("self",)).get(pk=action.pk)
    )
    _may_change(access, actor, action, fields)
    before = snapshot(action, ACTION_FIELDS)
    status = fields.pop("status", None)
    if "owner" in fields:
        _validate_owner(fields["owner"], action.tenant_id)
    for name, value in fields.items():
        setattr(action, name, value)
    if status is not None and status != action.status:
        if status not in CORRECTIVE_ACTION_TRANSITIONS.get(action.status, set()):
            raise ValidationError(
                {"status": [f"A corrective action cannot go from {action.status} to {status}."]}
            )
        now = timezone.now()
        if status == CorrectiveActionStatus.VERIFIED:
            if not action.verification_note.strip():
                raise ValidationError(
                    {"verification_note": ["Say how the action's effectiveness was checked."]}
                )
            action.verified_at, action.verified_by = now, actor
        elif status == CorrectiveActionStatus.DONE:
            action.completed_at = now
        if status in (CorrectiveActionStatus.OPEN, CorrectiveActionStatus.IN_PROGRESS):
            action.completed_at = None
        action.status = status
    validate(action)
    action.save()
    changes = diff(action, before, ACTION_FIELDS)
    if changes:
        publish(
            verb="corrective_action.updated",
            actor=actor,
            target=action,
            tenant_id=action.tenant_id,
            incident_id=action.review.incident_id,
            changes=changes,
        )
    return action
