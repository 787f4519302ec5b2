"""Reactions to other apps' events, inside the publishing transaction (design.md, Domain events).

Notifications reach only people who may read what they say (apps.notifications.recipients: each person's
own access under the incident's or the obligation's visibility rule), never the person who made the change,
and each person once per change: the dedupe key is the kind and the change (the row, and its `updated_at`
where the row can change again)."""

from django.contrib.auth import get_user_model

from apps.core.events import DomainEvent
from apps.notifications.choices import NotificationKind
from apps.notifications.messaging import emits, notify
from apps.notifications.models import Obligation
from apps.notifications.recipients import incident_readers, notice_people, tenant_people
from apps.notifications.services import obligations_sync
from apps.notifications.wording import (
    incident_facts,
    incident_link,
    obligation_link,
    obligation_name,
    obligation_owner,
    tenant_time,
)
from apps.response.choices import IncidentStatus
from apps.response.models import Incident, IncidentTeamMember, ResponseAction
from apps.tenancy.roles import RoleId

# What is asked of an incident's owner and team once it reaches a status.
NEXT_STEP = {
    IncidentStatus.INVESTIGATING: "Investigate: find the cause and the scope, and record what you find on "
    "the incident's timeline.",
    IncidentStatus.CONTAINED: "Eradicate the cause and recover the affected services; record each step.",
    IncidentStatus.ERADICATED: "Restore the affected services, then move the incident to recovered.",
    IncidentStatus.RECOVERED: "Complete the root cause and the post-incident review, then close it.",
    IncidentStatus.CLOSED: "Nothing more is asked of you: the incident is closed.",
}
# Who answers for an incident's notices to authorities: the tenant's incident managers (and its owner).
NOTICE_ROLES = {RoleId.MANAGER}


def sync_incident_obligations(event: DomainEvent) -> None:
    """An incident declared, or its regimes, flags or clock anchors changed: its obligations follow."""
    if event.incident_id is None:
        return
    obligations_sync(incident_id=event.incident_id, rationale=str(event.data.get("rationale", "")))


def _incident(incident_id) -> Incident:
    return Incident.unscoped.select_related("tenant", "owner").get(pk=incident_id)


def _new_value(event: DomainEvent, field: str):
    """The value a change gave `field` (None when it did not change it)."""
    change = event.changes.get(field)
    return change[1] if change else None


def _people(ids) -> list:
    return list(get_user_model().objects.filter(pk__in=ids).order_by("pk"))


def _tell_readers(
    incident: Incident, readers: dict[bool, list], *, body: str, detail: str = "", **message
) -> None:
    """Tell the incident's readers: `detail` (who did it, a note) only to those who see it in full."""
    for summary_only, people in readers.items():
        if people:
            notify(
                tenant_id=incident.tenant_id,
                users=people,
                body=body if summary_only or not detail else f"{body} {detail}",
                incident_id=incident.pk,
                facts=incident_facts(incident),
                **message,
            )


@emits(NotificationKind.INCIDENT_ESCALATED)
def tell_executives_of_escalation(event: DomainEvent) -> None:
    """An incident at or above the tenant's escalation severity reaches its executives and managers who
    see it, once per severity level (the response app publishes the event once per level reached)."""
    incident = _incident(event.incident_id)
    severity = event.data["severity"]
    people = tenant_people(incident.tenant, {RoleId.EXECUTIVE, RoleId.MANAGER})
    _tell_readers(
        incident,
        incident_readers(incident_id=incident.pk, people=people),
        kind=NotificationKind.INCIDENT_ESCALATED,
        subject=f"{severity} incident {incident.reference}: {incident.title}",
        body=f"{incident.reference} reached {severity}, at or above the escalation threshold "
        f"{event.data['threshold']} of {incident.tenant.name}.",
        ask="Senior management attention: review its impact and its notification obligations, and decide "
        "on resources and communication.",
        link=incident_link(incident.pk),
        dedupe_key=f"incident:{incident.pk}:escalated:{severity}",
    )


@emits(NotificationKind.INCIDENT_ASSIGNED)
def tell_new_owner_and_team(event: DomainEvent) -> None:
    """An incident declared with an owner, or given a new owner or new team members: they are told."""
    owner_id = _new_value(event, "owner_id")
    old_team, new_team = event.changes.get("team", ([], []))
    joined = set(new_team) - set(old_team)
    if owner_id is None and not joined:
        return
    incident = _incident(event.incident_id)
    joined.discard(str(incident.owner_id))  # the owner is told as the owner
    changed = incident.updated_at.isoformat()
    actor = event.actor_repr
    if owner_id is not None:
        _tell_readers(
            incident,
            incident_readers(incident_id=incident.pk, people=_people([owner_id]), actor_id=event.actor_id),
            kind=NotificationKind.INCIDENT_ASSIGNED,
            subject=f"{incident.reference} assigned to you: {incident.title}",
            body=f"You are now the owner of incident {incident.reference}.",
            detail=f"Assigned by {actor}.",
            ask="Lead its response: keep its timeline current, assign its actions and keep its notification "
            "deadlines in view.",
            link=incident_link(incident.pk),
            dedupe_key=f"incident.assigned:{incident.pk}:owner:{owner_id}:{changed}",
        )
    if joined:
        _tell_readers(
            incident,
            incident_readers(incident_id=incident.pk, people=_people(joined), actor_id=event.actor_id),
            kind=NotificationKind.INCIDENT_ASSIGNED,
            subject=f"You joined the team of {incident.reference}: {incident.title}",
            body=f"You were added to the team working incident {incident.reference}.",
            detail=f"Added by {actor}.",
            ask="Work the incident with its owner and record what you find on its timeline.",
            link=incident_link(incident.pk),
            dedupe_key=f"incident.assigned:{incident.pk}:team:{changed}",
        )


@emits(NotificationKind.INCIDENT_ASSIGNED)
def tell_action_assignee(event: DomainEvent) -> None:
    """A response action created for, or handed to, someone: they are told, if they see the incident in
    full (a summary shows no actions)."""
    if _new_value(event, "assignee_id") is None:
        return
    action = ResponseAction.unscoped.select_related("incident__tenant", "assignee").get(pk=event.target_id)
    incident = action.incident
    readers = incident_readers(incident_id=incident.pk, people=[action.assignee], actor_id=event.actor_id)
    due = tenant_time(action.due_at, incident.tenant) if action.due_at else ""
    notify(
        tenant_id=incident.tenant_id,
        users=readers[False],
        kind=NotificationKind.INCIDENT_ASSIGNED,
        subject=f"Action assigned to you on {incident.reference}: {action.title}",
        body=f"{event.actor_repr} assigned you the action \u201c{action.title}\u201d of incident "
        f"{incident.reference}.",
        ask=f"Carry it out{f' by {due}' if due else ''}, then mark it done on the incident's page.",
        facts=[*incident_facts(incident), ("Action", action.title), ("Due", due or "no due time")],
        incident_id=incident.pk,
        link=incident_link(incident.pk, "actions"),
        dedupe_key=f"incident.assigned:action:{action.pk}:{action.assignee_id}:{action.updated_at.isoformat()}",
    )


@emits(NotificationKind.INCIDENT_TRANSITIONED)
def tell_team_of_transition(event: DomainEvent) -> None:
    """An incident moved through its lifecycle: its owner and team are told, with what is asked now."""
    if event.incident_id is None or "status" not in event.changes:
        return  # not a move of an incident's status (nothing to tell)
    incident = _incident(event.incident_id)
    source, target = event.changes["status"]
    team = [
        member.user for member in IncidentTeamMember.unscoped.filter(incident=incident).select_related("user")
    ]
    note = str(event.data.get("note", "")).strip()
    _tell_readers(
        incident,
        incident_readers(incident_id=incident.pk, people=[incident.owner, *team], actor_id=event.actor_id),
        kind=NotificationKind.INCIDENT_TRANSITIONED,
        subject=f"{incident.reference} is now {IncidentStatus(target).label.lower()}: {incident.title}",
        body=f"Incident {incident.reference} moved from {IncidentStatus(source).label.lower()} to "
        f"{IncidentStatus(target).label.lower()}.",
        detail=f"By {event.actor_repr}." + (f" Note: {note}" if note else ""),
        ask=NEXT_STEP[target],
        link=incident_link(incident.pk),
        dedupe_key=f"incident.transitioned:{incident.pk}:{target}:{incident.updated_at.isoformat()}",
    )


def _obligation(event: DomainEvent) -> Obligation:
    return Obligation.unscoped.select_related("tenant", "step", "incident__owner").get(pk=event.target_id)


def _tell_notice_people(event: DomainEvent, obligation: Obligation, *, facts: list, **message) -> None:
    """The people who answer for the tenant's notices, and the incident's owner, who see the obligation
    (an annual one: named by the incident that opened or joined it)."""
    incident = obligation.incident
    if incident is None and event.incident_id is not None:
        incident = Incident.unscoped.filter(pk=event.incident_id).first()
    notify(
        tenant_id=obligation.tenant_id,
        users=notice_people(obligation, NOTICE_ROLES, actor_id=event.actor_id),
        facts=[
            *(incident_facts(incident) if incident else []),
            ("Notice", obligation_name(obligation)),
            *facts,
        ],
        incident_id=incident.pk if incident else None,
        link=obligation_link(obligation, event.incident_id),
        **message,
    )


@emits(NotificationKind.OBLIGATION_CREATED)
def tell_obligation_opened(event: DomainEvent) -> None:
    """A notice became owed (opened with an incident, by hand, or as a year's annual log)."""
    obligation = _obligation(event)
    notice, owner = obligation_name(obligation), obligation_owner(obligation)
    recipient = obligation.recipient or "its recipient"
    if obligation.due_at:
        due = tenant_time(obligation.due_at, obligation.tenant)
        when = f", due {due}."
        ask = (
            f"Prepare the notice to {recipient} and submit it before {due}, or waive it with a rationale if "
            "it does not apply."
        )
    else:
        due, when = "not yet: its clock has not started", "; its clock has not started yet."
        ask = "Enter the time its clock runs from on the obligation, then submit the notice in time."
    _tell_notice_people(
        event,
        obligation,
        kind=NotificationKind.OBLIGATION_CREATED,
        facts=[("Recipient", recipient), ("Due", due)],
        subject=f"Notification obligation opened: {notice} for {owner}",
        body=f"{owner[0].upper()}{owner[1:]} owes {notice} to {recipient}{when}",
        ask=ask,
        dedupe_key=f"obligation.created:{obligation.pk}",
    )


@emits(NotificationKind.OBLIGATION_SUBMITTED)
def tell_notice_submitted(event: DomainEvent) -> None:
    """A notice was recorded as sent: the others who answer for it are told (a late one says so)."""
    obligation = _obligation(event)
    late = bool(event.data.get("late"))
    submitted = tenant_time(obligation.submitted_at, obligation.tenant)
    _tell_notice_people(
        event,
        obligation,
        kind=NotificationKind.OBLIGATION_SUBMITTED,
        facts=[
            ("Submitted to", obligation.submitted_to or "-"),
            ("Submitted at", submitted + (" (late)" if late else "")),
            ("Their reference", obligation.reference or "-"),
        ],
        subject=f"Notice submitted: {obligation_name(obligation)} for {obligation_owner(obligation)}",
        body=f"{event.actor_repr} recorded {obligation_name(obligation)} as submitted to "
        f"{obligation.submitted_to or 'its recipient'} at {submitted}"
        + (", after its deadline." if late else "."),
        ask="Record on the incident's timeline why it went out late."
        if late
        else "Nothing is asked of you: the notice is on record. Notices that follow from it are opened as "
        "obligations of their own.",
        dedupe_key=f"obligation.submitted:{obligation.pk}",
    )
