from django.db.models import QuerySet

from apps.assessment.models import Assessment
from apps.reporting.models import Report
from apps.tenancy.access import Access
from apps.tenancy.context import current_context
from apps.tenancy.roles import Scope


def assessment_list(*, access: Access) -> QuerySet[Assessment]:
    """Decisions of the tenants whose report queue the caller reads (reporters see their report's status,
    not the handlers' reasoning)."""
    readable = current_context().tenant_ids & access.tenants_with(Scope.REPORT_READ)
    return Assessment.objects.filter(tenant_id__in=readable).select_related("report")


def assessment_history(*, access: Access, report: Report) -> QuerySet[Assessment]:
    """One report's decisions, newest first."""
    return assessment_list(access=access).filter(report=report).order_by("-decided_at", "-id")
