"""Response actions (tasks) of an incident. Their simple status may be PATCHed, within its transitions; a
closed incident's actions are frozen."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.events import diff, publish, snapshot
from apps.core.validation import validate
from apps.response.choices import ACTION_TRANSITIONS, ActionStatus
from apps.response.lifecycle import require_open
from apps.response.models import Incident, ResponseAction
from apps.tenancy.access import Access
from apps.tenancy.roles import Scope

ACTION_FIELDS = ["title", "description", "assignee_id", "due_at", "status"]
FROZEN = "its response actions are frozen"


def _require_write(access: Access, incident: Incident) -> None:
    if not access.has_scope(incident.tenant_id, Scope.INCIDENT_WRITE):
        raise PermissionDenied("You may not manage this incident's actions.")


def _move(action: ResponseAction, status: str) -> None:
    if status not in ACTION_TRANSITIONS.get(action.status, set()):
        raise ValidationError({"status": [f"An action cannot go from {action.status} to {status}."]})
    action.status = status
    action.completed_at = timezone.now() if status == ActionStatus.DONE else None


@transaction.atomic
def action_create(
    *,
    actor,
    access: Access,
    incident: Incident,
    title: str,
    description: str = "",
    assignee=None,
    due_at=None,
) -> ResponseAction:
    _require_write(access, incident)
    require_open(incident.pk, what=FROZEN)
    action = ResponseAction(
        tenant_id=incident.tenant_id,
        incident=incident,
        title=title,
        description=description,
        assignee=assignee,
        due_at=due_at,
        created_by=actor,
    )
    validate(action)
    action.save(force_insert=True)
    publish(
        verb="action.created",
        actor=actor,
        target=action,
        tenant_id=incident.tenant_id,
        incident_id=incident.pk,
        changes=diff(action, {}, ACTION_FIELDS),
    )
    return action


@transaction.atomic
def action_update(*, actor, access: Access, action: ResponseAction, **fields) -> ResponseAction:
    _require_write(access, action.incident)
    # The incident's lock before the action's, in the order a close takes them.
    require_open(action.incident_id, what=FROZEN)
    action = ResponseAction.unscoped.select_for_update().get(pk=action.pk)
    before = snapshot(action, ACTION_FIELDS)
    status = fields.pop("status", None)
    if status is not None and status != action.status:
        _move(action, status)
    for name, value in fields.items():
        setattr(action, name, value)
    validate(action)
    action.save()
    _publish_update(actor, action, before)
    return action


def action_settle(*, actor, action: ResponseAction, status: str, data: dict) -> None:
    """An open action completed or cancelled by closing its incident, with the closer's decision in
    `data` (incident_transition checked the role and holds the incident's lock)."""
    before = snapshot(action, ACTION_FIELDS)
    _move(action, status)
    action.save(update_fields=["status", "completed_at", "updated_at"])
    _publish_update(actor, action, before, data)


def _publish_update(actor, action: ResponseAction, before: dict, data: dict | None = None) -> None:
    changes = diff(action, before, ACTION_FIELDS)
    if changes:
        publish(
            verb="action.updated",
            actor=actor,
            target=action,
            tenant_id=action.tenant_id,
            incident_id=action.incident_id,
            changes=changes,
            data=data,
        )
