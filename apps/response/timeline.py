"""The incident timeline: automatic entries from domain events, manual ones from people."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.events import DomainEvent, publish
from apps.response.choices import TimelineKind
from apps.response.lifecycle import require_open
from apps.response.models import Incident, TimelineEntry
from apps.tenancy.access import Access
from apps.tenancy.roles import Scope

# Reads are on the audit trail; they are not events in the incident's story.
NOT_ON_TIMELINE = {"incident.accessed_via_grant", "timeline.entry_added"}


def _summary(event: DomainEvent) -> str:
    if event.verb == "incident.transitioned":
        source, target = event.changes["status"]
        note = event.data.get("note")
        return f"Status {source} → {target}" + (f": {note}" if note else "")
    if event.changes:
        fields = ", ".join(sorted(event.changes))
        return f"{event.verb.replace('.', ' ').replace('_', ' ').capitalize()} ({fields})"
    return event.verb.replace(".", " ").replace("_", " ").capitalize()


def record_automatic_entry(event: DomainEvent) -> None:
    """Subscribed to every event: whatever concerns an incident lands on its timeline, in the same
    transaction as the change itself."""
    if event.incident_id is None or event.verb in NOT_ON_TIMELINE:
        return
    TimelineEntry.unscoped.create(
        tenant_id=event.tenant_id,
        incident_id=event.incident_id,
        at=timezone.now(),
        kind=TimelineKind.AUTOMATIC,
        verb=event.verb,
        actor_id=event.actor_id,
        actor_repr=event.actor_repr,
        summary=_summary(event),
        data={"changes": dict(event.changes), **dict(event.data)},
    )


@transaction.atomic
def timeline_entry_add(
    *,
    actor,
    access: Access,
    incident: Incident,
    kind: str,
    summary: str,
    at=None,
    direction: str = "",
    counterpart: str = "",
    channel: str = "",
) -> TimelineEntry:
    """An observation or a communication (internal or external: to whom, by which channel, what)."""
    if not access.has_scope(incident.tenant_id, Scope.INCIDENT_WRITE):
        raise PermissionDenied("You may not add to this incident's timeline.")
    require_open(incident.pk, what="its timeline takes no more manual entries")
    if kind not in {TimelineKind.OBSERVATION, TimelineKind.COMMUNICATION}:
        raise ValidationError({"kind": ["One of: observation, communication."]})
    if kind == TimelineKind.COMMUNICATION and not (direction and counterpart):
        raise ValidationError({"counterpart": ["A communication names its direction and counterpart."]})
    entry = TimelineEntry.unscoped.create(
        tenant_id=incident.tenant_id,
        incident=incident,
        at=at or timezone.now(),
        kind=kind,
        verb=f"timeline.{kind}",
        actor=actor,
        actor_repr=actor.get_username(),
        summary=summary,
        direction=direction,
        counterpart=counterpart,
        channel=channel,
    )
    publish(
        verb="timeline.entry_added",
        actor=actor,
        target=entry,
        tenant_id=incident.tenant_id,
        incident_id=incident.pk,
        data={"kind": kind, "summary": summary[:500], "direction": direction, "counterpart": counterpart},
    )
    return entry
