"""The incident state machine: one transition table, and the guards higher apps register.

Response never imports the apps above it; they add rules here instead (reviews registers "a P1/P2
incident closes only with a completed review").
"""

from collections.abc import Callable
from dataclasses import dataclass

from apps.response.choices import IncidentStatus as S
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


# A guard gets (incident, transition) and returns why the transition cannot happen now, or None.
Guard = Callable[[object, Transition], str | None]
_guards: list[Guard] = []


def register_transition_guard(guard: Guard) -> Guard:
    if guard not in _guards:
        _guards.append(guard)
    return guard


def field_blocker(incident, transition: Transition) -> str | None:
    """The incident's own conditions, checked without a query (also for `allowed_transitions`)."""
    if transition.verb == "closed" and not incident.root_cause.strip():
        return "Closing needs the incident's root_cause summary."
    return None


def blocker(incident, transition: Transition, note: str) -> str | None:
    if transition.needs_note and not note.strip():
        return f"A rationale (`note`) is required to move to {transition.target}."
    reason = field_blocker(incident, transition)
    if reason:
        return reason
    for guard in _guards:
        reason = guard(incident, transition)
        if reason:
            return reason
    return None


def allowed_targets(incident, access) -> list[str]:
    """What the caller could move the incident to now (registered guards are checked on the move)."""
    return [
        t.target
        for t in targets_from(incident.status)
        if access.has_scope(incident.tenant_id, t.scope) and field_blocker(incident, t) is None
    ]
