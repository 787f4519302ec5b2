"""The insights the API and pages show, for the tenants the caller may oversee."""

from dataclasses import asdict

from django.utils import timezone

from apps.insights.iso27001 import iso27001_report
from apps.insights.metrics import metrics_for
from apps.insights.period import Period
from apps.tenancy.access import Access
from apps.tenancy.context import current_context
from apps.tenancy.models import Tenant
from apps.tenancy.roles import Scope


def overseen_tenant_ids(access: Access) -> frozenset:
    """Tenants in context (narrowed by ?tenant=) whose figures the caller may read."""
    return current_context().tenant_ids & access.tenants_with(Scope.DASHBOARD_READ)


def _header(tenant_ids: frozenset, period: Period) -> dict:
    tenants = (
        Tenant.objects.filter(id__in=tenant_ids).order_by("name").values("id", "name", "reference_prefix")
    )
    return {
        "tenants": [{**row, "id": str(row["id"])} for row in tenants],
        "period": period.as_dict(),
        "generated_at": timezone.now().isoformat(),
    }


def compliance_report(*, access: Access, period: Period) -> dict:
    tenant_ids = overseen_tenant_ids(access)
    return {
        **_header(tenant_ids, period),
        "controls": [asdict(s) for s in iso27001_report(access=access, tenant_ids=tenant_ids, period=period)],
    }


def metrics_report(*, access: Access, period: Period) -> dict:
    tenant_ids = overseen_tenant_ids(access)
    return {**_header(tenant_ids, period), **metrics_for(tenant_ids=tenant_ids, period=period)}
