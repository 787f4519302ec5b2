"""What a reporter is told about a report: the one vocabulary of the confirmation, "My reports" and the
report's own page (README, "Reporting").

A reporter learns what became of the report as far as need-to-know allows: the incident's reference and
status, unless the incident is need-to-know (then only that it was handled as one). The assessment's
rationale is the handlers' record, not a message to the reporter (it may name other people), so a report
found not to be an incident says so without the rationale; a duplicate does not name the other report."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from apps.reporting.choices import ReportStatus
from apps.reporting.models import Report
from apps.response.choices import IncidentStatus


@dataclass(frozen=True)
class ReportOutcome:
    code: str  # waiting, incident_open, incident_closed, handled, not_incident, already_reported
    label: str  # the status badge
    detail: str  # one sentence under it


def report_outcome(report: Report) -> ReportOutcome:
    """The reporter-facing status of a report (read it with `incident` and `tenant` selected)."""
    if report.status == ReportStatus.NEW:
        return ReportOutcome(
            "waiting",
            _("Waiting for assessment"),
            _("The incident handlers of %(tenant)s will assess it.") % {"tenant": report.tenant.name},
        )
    incident = report.incident
    if incident is not None and incident.restricted:
        return ReportOutcome(
            "handled",
            _("Handled as an incident"),
            _("It was handled as an incident whose details are shared on a need-to-know basis."),
        )
    if incident is not None:
        closed = incident.status == IncidentStatus.CLOSED
        return ReportOutcome(
            "incident_closed" if closed else "incident_open",
            _("Incident closed") if closed else _("Handled as an incident"),
            _("Incident %(reference)s: %(status)s.")
            % {"reference": incident.reference, "status": incident.get_status_display()},
        )
    if report.duplicate_of_id is not None:
        return ReportOutcome(
            "already_reported",
            _("Already reported"),
            _("It concerns something already reported, which the handlers followed up."),
        )
    return ReportOutcome(
        "not_incident",
        _("Not an incident"),
        _("The handlers assessed it and found no security incident. Thank you for reporting it."),
    )
