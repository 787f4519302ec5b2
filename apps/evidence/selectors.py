"""Reads of evidence. An item is visible to whoever sees its incident in full (incident_visible's rule,
grants included: a `view` grant covers the incident's evidence) or its report (report_list's rule)."""

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When

from apps.core.conditions import checked_per_row
from apps.evidence.choices import CustodyAction
from apps.evidence.models import CustodyEvent, Evidence
from apps.reporting.selectors import report_visible_condition
from apps.response.models import Incident
from apps.response.selectors import incident_visible_condition, incidents_granted_elsewhere
from apps.tenancy.access import Access
from apps.tenancy.context import current_context
from apps.tenancy.roles import Scope


def evidence_list(*, access: Access) -> QuerySet[Evidence]:
    """Every item the caller may see, annotated with `identity_hidden`: the item was attached to a
    confidential report whose reporter the caller may not know, so who collected, uploaded and handled it
    is not shown (serializers, admin)."""
    tenant_ids = current_context().tenant_ids
    identity = tenant_ids & access.tenants_with(Scope.REPORTER_IDENTITY)
    hidden = (
        Q(report__confidential=True) & ~Q(tenant_id__in=identity) & ~Q(report__reporter_id=access.user_id)
    )
    # Implied by the visibility rule below but indexable: the list walks the tenants' newest items in index
    # order and checks each one on its joined incident and report (issue 7).
    reachable = Q(tenant_id__in=tenant_ids)
    if granted_elsewhere := incidents_granted_elsewhere(access=access):
        reachable |= Q(incident_id__in=granted_elsewhere)
    # Evidence is an incident's child: seen only with the incident in full (Need.FULL).
    incident_seen = incident_visible_condition(access=access, through="incident")
    visible = incident_seen | report_visible_condition(access=access, through="report")
    return (
        Evidence.unscoped.filter(reachable)
        .filter(checked_per_row(visible))
        .annotate(
            identity_hidden=Case(
                When(hidden, then=Value(True)), default=Value(False), output_field=BooleanField()
            )
        )
        .select_related("incident", "report", "collected_by", "uploaded_by")
    )


def evidence_get(*, access: Access, evidence_id) -> Evidence:
    """One visible item; another tenant's raises Evidence.DoesNotExist exactly like a missing one."""
    return evidence_list(access=access).get(pk=evidence_id)


# An item's custody log is read through the item, which evidence_list already let through.
def custody_list(*, evidence: Evidence) -> QuerySet[CustodyEvent]:
    return CustodyEvent.unscoped.filter(evidence=evidence).select_related("actor")


def incident_evidence(*, incident: Incident) -> QuerySet[Evidence]:
    """The incident's items, its reports' attachments included (with their reporter: see package.py)."""
    return Evidence.unscoped.filter(incident=incident).select_related(
        "collected_by", "uploaded_by", "report__reporter"
    )


def incident_custody(
    *, incident: Incident, exclude_actions=(CustodyAction.EXPORTED,)
) -> QuerySet[CustodyEvent]:
    return (
        CustodyEvent.unscoped.filter(evidence__incident=incident)
        .exclude(action__in=exclude_actions)
        .select_related("actor")
        .order_by("at", "id")
    )
