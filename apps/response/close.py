"""Closing an incident on purpose: its open response actions are completed, cancelled with a reason, or
carried over to the post-incident review's corrective actions, as the closer decides. Response never
imports reviews: the reviews app registers where carried-over actions go (as it registers its guard)."""

from collections.abc import Callable

from django.core.exceptions import ValidationError

from apps.core.errors import Conflict
from apps.response.actions import action_settle
from apps.response.choices import ActionStatus, OpenActionsDecision
from apps.response.models import Incident, ResponseAction
from apps.tenancy.access import Access

# (actor=, access=, incident=, actions=) -> the id of the corrective action each action became, in order.
CarryOver = Callable[..., list[str]]
_carry_over: list[CarryOver] = []  # at most one: where carried-over actions go


def register_carry_over(handler: CarryOver) -> CarryOver:
    _carry_over[:] = [handler]
    return handler


def open_actions(incident: Incident) -> list[ResponseAction]:
    return list(
        ResponseAction.unscoped.filter(incident_id=incident.pk, status=ActionStatus.OPEN)
        .select_related("assignee")
        .order_by("created_at", "id")
    )


def _listed(action: ResponseAction) -> dict:
    return {
        "id": str(action.pk),
        "title": action.title,
        "assignee": str(action.assignee_id) if action.assignee_id else None,
        "due_at": action.due_at.isoformat() if action.due_at else None,
    }


def _refuse_undecided(actions: list[ResponseAction]) -> None:
    choices = ", ".join(OpenActionsDecision.values)
    raise Conflict(
        f"{len(actions)} response action(s) still open: closing needs a decision on them "
        f"(`open_actions`: {choices}; cancel with a `reason`).",
        code="open_actions",
        details={"open_actions": [_listed(action) for action in actions]},
    )


def settle_open_actions(*, actor, access: Access, incident: Incident, decision: str, reason: str) -> dict:
    """Carry out the closer's decision on the incident's open actions, inside incident_transition (the
    incident locked, the close allowed). Each action's change is an event of its own (audit, timeline);
    returns what the close event records of the decision."""
    actions = open_actions(incident)
    if not actions:
        return {}
    if not decision:
        _refuse_undecided(actions)
    if decision == OpenActionsDecision.CANCEL and not reason.strip():
        raise ValidationError({"reason": ["Say why the open actions are cancelled."]})
    if decision == OpenActionsDecision.CARRY_OVER:
        if not _carry_over:
            raise ValidationError({"open_actions": ["Nothing takes carried-over actions here."]})
        targets = _carry_over[0](actor=actor, access=access, incident=incident, actions=actions)
        reason = reason.strip() or "Carried over to the post-incident review's corrective actions."
    else:
        targets = [None] * len(actions)
    status = ActionStatus.DONE if decision == OpenActionsDecision.COMPLETE else ActionStatus.CANCELLED
    for action, target in zip(actions, targets, strict=True):
        data = {"on_close": decision, "reason": reason}
        if target:
            data["corrective_action"] = target
        action_settle(actor=actor, action=action, status=status, data=data)
    return {"open_actions": decision, "reason": reason, "actions": [str(a.pk) for a in actions]}
