from django.contrib.auth import get_user_model

from apps.core.events import DomainEvent
from apps.evidence.services import report_evidence_join_incident
from apps.reporting.models import Report
from apps.response.models import Incident


def attachments_follow_their_report(event: DomainEvent) -> None:
    """`report.triaged`: an assessment put the report into an incident (opened, linked, or its original's
    as a duplicate), so the report's attachments join that incident's evidence."""
    _, incident_id = event.changes.get("incident_id", (None, None))
    if incident_id is None:
        return
    report = Report.objects.get(pk=event.target_id)
    report_evidence_join_incident(
        actor=get_user_model().objects.get(pk=event.actor_id) if event.actor_id else None,
        report=report,
        incident=Incident.objects.get(pk=incident_id),
        reason={"decision": event.data["decision"], "assessment": event.data["assessment_id"]},
    )
