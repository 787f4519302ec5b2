"""Decisions on reports (ISO/IEC 27001:2022 A.5.25): incident, not an incident, or duplicate.

One service, one transaction: lock the report, validate, open or link the incident, append the decision,
triage the report, publish. If any step fails nothing of it is written (the incident included). The report's
attachments follow it into its incident on `report.triaged` (apps.evidence.subscribers), in the same
transaction."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.assessment.choices import Decision
from apps.assessment.models import Assessment
from apps.catalog.models import Category
from apps.catalog.selectors import severity_for
from apps.core.events import diff, publish, snapshot
from apps.core.validation import validate
from apps.reporting.choices import ReportStatus
from apps.reporting.models import Report
from apps.response.models import Incident
from apps.response.selectors import Need, incident_visible
from apps.response.services import incident_declare
from apps.tenancy.access import Access
from apps.tenancy.roles import Scope

ASSESSMENT_FIELDS = [
    "decision",
    "category_id",
    "impact",
    "urgency",
    "severity",
    "rationale",
    "duplicate_of_id",
    "incident_id",
    "incident_opened",
]
REPORT_TRIAGE_FIELDS = ["status", "incident_id", "duplicate_of_id"]
MAX_DUPLICATE_CHAIN = 100


def _check_category(report: Report, category: Category | None) -> None:
    if category is None:
        return
    if category.tenant_id not in (None, report.tenant_id) or not category.is_active:
        raise ValidationError(
            {"category": ["Not an active category of the shipped taxonomy or this tenant."]}
        )


def _check_original(report: Report, original: Report | None) -> Report:
    if original is None:
        raise ValidationError({"duplicate_of": ["Required when the decision is duplicate."]})
    if original.pk == report.pk:
        raise ValidationError({"duplicate_of": ["A report cannot be a duplicate of itself."]})
    if original.tenant_id != report.tenant_id:
        raise ValidationError({"duplicate_of": ["Not a report of this report's tenant."]})
    # No cycles: the original must not (transitively) be a duplicate of this report.
    current, seen = original, 0
    while current.duplicate_of_id is not None and seen < MAX_DUPLICATE_CHAIN:
        if current.duplicate_of_id == report.pk:
            raise ValidationError({"duplicate_of": ["That report is itself a duplicate of this one."]})
        current = Report.unscoped.only("id", "duplicate_of_id").get(pk=current.duplicate_of_id)
        seen += 1
    return original


def _check_linked_incident(access: Access, report: Report, incident: Incident) -> None:
    if incident.tenant_id != report.tenant_id:
        raise ValidationError({"incident": ["Not an incident of this report's tenant."]})
    # A linked report becomes the incident's child: only an incident seen in full may take it.
    if not incident_visible(access=access, need=Need.FULL).filter(pk=incident.pk).exists():
        raise ValidationError({"incident": ["Not an incident you may see."]})


@transaction.atomic
def assessment_record(
    *,
    actor,
    access: Access,
    report: Report,
    decision: str,
    rationale: str,
    category: Category | None = None,
    impact: str = "",
    urgency: str = "",
    duplicate_of: Report | None = None,
    incident: Incident | None = None,
) -> Assessment:
    """Record a decision on a report. `incident` opens a new incident from the report (or, with `incident`,
    links an existing one of the same tenant; a report already linked stays with its incident);
    `duplicate` points at the original report (and joins its incident, if any); `not_incident` triages.
    Severity is derived from impact × urgency by the tenant's matrix. Re-assessing appends a new record."""
    if not access.has_scope(report.tenant_id, Scope.REPORT_ASSESS):
        raise PermissionDenied("You may not assess reports of this tenant.")
    report = Report.unscoped.select_for_update(of=("self",)).select_related("tenant").get(pk=report.pk)

    errors: dict[str, list[str]] = {}
    if decision not in Decision.values:
        errors["decision"] = [f"One of: {', '.join(Decision.values)}."]
    if not (rationale or "").strip():
        errors["rationale"] = ["A decision needs its rationale."]
    if decision != Decision.DUPLICATE and duplicate_of is not None:
        errors["duplicate_of"] = ["Only with the decision duplicate."]
    if decision != Decision.INCIDENT and incident is not None:
        errors["incident"] = ["Only with the decision incident."]
    if decision == Decision.INCIDENT:
        for name, value in (("category", category), ("impact", impact), ("urgency", urgency)):
            if not value:
                errors[name] = ["Required when the decision is incident."]
    if errors:
        raise ValidationError(errors)
    _check_category(report, category)
    severity = (
        severity_for(tenant_id=report.tenant_id, impact=impact, urgency=urgency) if impact or urgency else ""
    )

    opened = False
    if decision == Decision.INCIDENT:
        if incident is not None:
            _check_linked_incident(access, report, incident)
        elif report.incident_id is not None:
            incident = Incident.unscoped.get(pk=report.incident_id)  # a reclassification keeps its incident
        else:
            incident = incident_declare(
                actor=actor,
                access=access,
                tenant=report.tenant,
                title=report.title,
                description=report.description,
                category=category,
                impact=impact,
                urgency=urgency,
                aware_at=report.detected_at or report.received_at,
                require_scope=False,
            )
            opened = True
    elif decision == Decision.DUPLICATE:
        duplicate_of = _check_original(report, duplicate_of)
        if duplicate_of.incident_id is not None:
            incident = Incident.unscoped.get(pk=duplicate_of.incident_id)

    assessment = Assessment(
        tenant_id=report.tenant_id,
        report=report,
        decided_by=actor,
        decided_at=timezone.now(),
        decision=decision,
        category=category,
        impact=impact,
        urgency=urgency,
        severity=severity,
        rationale=rationale.strip(),
        duplicate_of=duplicate_of,
        incident=incident,
        incident_opened=opened,
    )
    validate(assessment)
    assessment.save(force_insert=True)

    before = snapshot(report, REPORT_TRIAGE_FIELDS)
    report.status = ReportStatus.TRIAGED
    report.incident = incident
    report.duplicate_of = duplicate_of
    report.save(update_fields=["status", "incident", "duplicate_of", "updated_at"])

    publish(
        verb="assessment.recorded",
        actor=actor,
        target=assessment,
        tenant_id=report.tenant_id,
        incident_id=incident.pk if incident else None,
        changes=diff(assessment, {}, ASSESSMENT_FIELDS),
        data={"report_id": str(report.pk), "report_reference": report.reference},
    )
    changes = diff(report, before, REPORT_TRIAGE_FIELDS)
    if changes:
        publish(
            verb="report.triaged",
            actor=actor,
            target=report,
            tenant_id=report.tenant_id,
            changes=changes,
            data={"decision": decision, "assessment_id": str(assessment.pk)},
        )
    return assessment
