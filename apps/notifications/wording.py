"""How notifications name things: an incident, an obligation, a time in the tenant's zone, the page to open.
What is named here for an incident is its summary (reference, title, severity, status), which every reader
of the incident may see, a summary-only one too."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.urls import reverse


def tenant_time(moment: datetime, tenant) -> str:
    """A time as the tenant reads it, with its zone: "2026-03-02 17:00 CET (Europe/Berlin)"."""
    zone = ZoneInfo(tenant.time_zone or "UTC")
    local = moment.astimezone(zone)
    name = local.tzname()
    return f"{local:%Y-%m-%d %H:%M} {name}" + ("" if name == zone.key else f" ({zone.key})")


def incident_link(incident_id, section: str = "") -> str:
    """The incident's page in the web app (a path; e-mails make it absolute), at `section` if given."""
    return reverse("web:incident", args=[incident_id]) + (f"#{section}" if section else "")


def incident_facts(incident) -> list[tuple[str, str]]:
    return [
        ("Incident", f"{incident.reference}: {incident.title}"),
        ("Severity", incident.get_severity_display() or "not assessed yet"),
        ("Status", incident.get_status_display()),
    ]


def obligation_name(obligation) -> str:
    """What is owed: "Initial notification (GDPR)"."""
    return f"{obligation.step.name or obligation.notice} ({obligation.regime.upper()})"


def obligation_owner(obligation) -> str:
    """Whose notice it is: "incident FIN-2026-0001", or "the 2026 annual log"."""
    if obligation.incident_id is None:
        return f"the {obligation.period_year} annual log"
    return f"incident {obligation.incident.reference}"


def obligation_link(obligation, incident_id=None) -> str:
    """The obligations of its incident (an annual one: of the incident that `incident_id` names), else
    the dashboard's deadlines."""
    incident_id = obligation.incident_id or incident_id
    return incident_link(incident_id, "obligations") if incident_id else reverse("web:dashboard")


def training_link(assignment_id) -> str:
    """The person's training page, at the assignment."""
    return reverse("web:training") + f"#assignment-{assignment_id}"
