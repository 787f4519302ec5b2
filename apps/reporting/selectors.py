"""Reads of reports. The reporter sees its own reports; the tenant's queue is for roles that read reports;
a confidential report's reporter is shown only to the tenant's managers and to the reporter itself."""

from django.db.models import BooleanField, Case, F, Q, QuerySet, UUIDField, Value, When

from apps.reporting.models import Report
from apps.response.selectors import incident_visible_condition
from apps.tenancy.access import Access
from apps.tenancy.context import current_context
from apps.tenancy.roles import Scope


def _visible(access: Access, *, reporter: str) -> Q:
    """The rule of who sees a report: its tenant's queue (report:read) or its own reporter. `reporter`
    names the reporter column from the model queried (the report, or a child linked to it by a same-tenant
    key, whose own tenant_id is the report's)."""
    queue = current_context().tenant_ids & access.tenants_with(Scope.REPORT_READ)
    return Q(tenant_id__in=queue) | Q(**{reporter: access.user_id})


def report_visible_condition(*, access: Access, through: str) -> Q:
    """Rows of a child model (`through`: its link to the report, a same-tenant key) whose report the caller
    sees: report_list's rule on the joined report's columns, checked on each row a list reads (issue 7)."""
    in_context = Q(**{f"{through}__isnull": False}, tenant_id__in=current_context().tenant_ids)
    return in_context & _visible(access, reporter=f"{through}__reporter_id")


def report_list(*, access: Access) -> QuerySet[Report]:
    """Every report the caller may see, annotated with `reporter_visible` (whether it may see who filed
    it) and `shown_incident_id`. Serializers, exports and the admin show the reporter only where that
    annotation is true, and the incident only where the other is set."""
    tenant_ids = current_context().tenant_ids
    identity = tenant_ids & access.tenants_with(Scope.REPORTER_IDENTITY)
    own = Q(reporter_id=access.user_id)  # system access (no user): IS NULL, never true
    return Report.objects.filter(_visible(access, reporter="reporter_id")).annotate(
        reporter_visible=Case(
            When(Q(confidential=False) | Q(tenant_id__in=identity) | own, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        # The incident a report became, for those who see it (need-to-know: not for a handler who is not
        # cleared for it, nor for its reporter), by the incidents' one rule.
        shown_incident_id=Case(
            When(incident_visible_condition(access=access, through="incident"), then=F("incident_id")),
            default=None,
            output_field=UUIDField(),
        ),
    )


def report_get(*, access: Access, report_id) -> Report:
    """One visible report; another tenant's (or another reporter's, for a plain member) raises
    Report.DoesNotExist like a missing one."""
    return report_list(access=access).get(pk=report_id)


def report_queue_readable(*, access: Access, report: Report) -> bool:
    """Whether the caller reads the tenant's queue (and so the decisions), not just its own reports."""
    return access.has_scope(report.tenant_id, Scope.REPORT_READ)
