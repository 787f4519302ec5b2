"""Reactions to other apps' events, inside the publishing transaction (design.md, Domain events)."""

from apps.core.events import DomainEvent
from apps.notifications.services import obligations_sync


def sync_incident_obligations(event: DomainEvent) -> None:
    """An incident declared, or its regimes, flags or clock anchors changed: its obligations follow."""
    if event.incident_id is None:
        return
    obligations_sync(incident_id=event.incident_id, rationale=str(event.data.get("rationale", "")))
