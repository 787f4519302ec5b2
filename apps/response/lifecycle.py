"""The incident state machine: one transition table, the guards higher apps register, and what the closed
state refuses.

Response never imports the apps above it; they add rules here instead (reviews registers "a P1/P2
incident closes only with a completed review").
"""

from collections.abc import Callable
from dataclasses import dataclass

from apps.core.errors import Conflict
from apps.response.choices import IncidentStatus as S
from apps.response.models import Incident
from apps.tenancy.roles import Scope


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    scope: str
    verb: str
    needs_note: bool = False


TRANSITIONS: dict[tuple[str, str], Transition] = {
    (t.source, t.target): t
    for t in [
        Transition(S.DECLARED, S.INVESTIGATING, Scope.INCIDENT_TRANSITION, "investigation_started"),
        Transition(S.INVESTIGATING, S.CONTAINED, Scope.INCIDENT_TRANSITION, "contained"),
        Transition(S.CONTAINED, S.ERADICATED, Scope.INCIDENT_TRANSITION, "eradicated"),
        Transition(S.ERADICATED, S.RECOVERED, Scope.INCIDENT_TRANSITION, "recovered"),
        # Nothing to eradicate (e.g. a misconfiguration fixed in containment): recover directly.
        Transition(S.CONTAINED, S.RECOVERED, Scope.INCIDENT_TRANSITION, "recovered"),
        Transition(S.RECOVERED, S.CLOSED, Scope.INCIDENT_CLOSE, "closed"),
        # A false alarm closes straight from investigation, with its rationale.
        Transition(S.INVESTIGATING, S.CLOSED, Scope.INCIDENT_CLOSE, "closed_as_false_alarm", needs_note=True),
        Transition(S.CLOSED, S.INVESTIGATING, Scope.INCIDENT_CLOSE, "reopened", needs_note=True),
    ]
}


def transition_for(source: str, target: str) -> Transition | None:
    return TRANSITIONS.get((source, target))


def targets_from(source: str) -> list[Transition]:
    return [t for (s, _), t in TRANSITIONS.items() if s == source]


@dataclass(frozen=True)
class Blocked:
    """Why a move cannot happen now, and where that is put right (`fix`: a place every interface can point
    to, e.g. "root_cause" for the incident's field, "review" for its post-incident review)."""

    reason: str
    fix: str = ""


# A guard gets (incident, transition) and returns what blocks the transition now, or None.
Guard = Callable[[object, Transition], Blocked | None]
_guards: list[Guard] = []


def register_transition_guard(guard: Guard) -> Guard:
    if guard not in _guards:
        _guards.append(guard)
    return guard


def field_blocker(incident, transition: Transition) -> Blocked | None:
    """The incident's own conditions, checked without a query (also for `allowed_transitions`)."""
    if transition.verb == "closed" and not incident.root_cause.strip():
        return Blocked("Closing needs the incident's root_cause summary.", fix="root_cause")
    return None


def state_blocker(incident, transition: Transition) -> Blocked | None:
    """What blocks the move whatever the request says: the incident's fields, then the registered guards.
    Pages show a blocked move disabled, with this reason and a link to its fix."""
    checks = [field_blocker, *_guards]
    return next((blocked for check in checks if (blocked := check(incident, transition))), None)


def blocker(incident, transition: Transition, note: str) -> Blocked | None:
    if transition.needs_note and not note.strip():
        return Blocked(f"A rationale (`note`) is required to move to {transition.target}.", fix="note")
    return state_blocker(incident, transition)


def permitted_transitions(incident, access) -> list[Transition]:
    """The moves from the incident's status the caller's role allows, blocked or not."""
    return [t for t in targets_from(incident.status) if access.has_scope(incident.tenant_id, t.scope)]


def allowed_targets(incident, access) -> list[str]:
    """What the caller could move the incident to now (registered guards are checked on the move)."""
    return [t.target for t in permitted_transitions(incident, access) if field_blocker(incident, t) is None]


def require_open(incident_id, *, what: str) -> None:
    """A closed incident's own records are frozen (its fields, response actions, manual timeline entries);
    obligations, evidence with its custody, exports and the review keep recording. Reads the status under a
    row lock, so a write racing a close waits for it and is refused."""
    status = (
        Incident.unscoped.select_for_update(no_key=True).values_list("status", flat=True).get(pk=incident_id)
    )
    refuse_if_closed(status, what=what)


def refuse_if_closed(status: str, *, what: str) -> None:
    """require_open's refusal, for a caller that already holds the incident's row lock."""
    if status == S.CLOSED:
        raise Conflict(f"This incident is closed: {what}. Reopen it first.", code="closed")
