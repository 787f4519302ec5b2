"""Reactions to other apps' events, inside the publishing transaction (design.md, Domain events)."""

from apps.core.events import DomainEvent
from apps.notifications.choices import NotificationKind
from apps.notifications.messaging import notify
from apps.notifications.recipients import tenant_people
from apps.notifications.services import obligations_sync
from apps.response.models import Incident
from apps.tenancy.roles import RoleId


def sync_incident_obligations(event: DomainEvent) -> None:
    """An incident declared, or its regimes, flags or clock anchors changed: its obligations follow."""
    if event.incident_id is None:
        return
    obligations_sync(incident_id=event.incident_id, rationale=str(event.data.get("rationale", "")))


def tell_executives_of_escalation(event: DomainEvent) -> None:
    """An incident at or above the tenant's escalation severity reaches its executives and managers, once
    per severity level (the response app publishes the event once per level reached)."""
    incident = Incident.unscoped.select_related("tenant").get(pk=event.incident_id)
    severity = event.data["severity"]
    notify(
        tenant_id=incident.tenant_id,
        users=tenant_people(incident.tenant, {RoleId.EXECUTIVE, RoleId.MANAGER}),
        kind=NotificationKind.INCIDENT_ESCALATED,
        subject=f"{severity} incident {incident.reference}: {incident.title}",
        body=f"{incident.reference} reached {severity}, at or above the escalation threshold "
        f"{event.data['threshold']} of {incident.tenant.name}.",
        incident_id=incident.pk,
        link=f"/incidents/{incident.pk}/",
        dedupe_key=f"incident:{incident.pk}:escalated:{severity}",
    )
