"""The admin index's key figures, computed by apps.insights inside the request's tenant context (every
admin view runs in it: apps.tenancy.admin_site), and its banner of failed outbound deliveries."""

from datetime import timedelta

from django import template
from django.db.models import Count
from django.utils import timezone

from apps.insights.metrics import metrics_for
from apps.insights.period import Period
from apps.insights.selectors import overseen_tenant_ids
from apps.notifications.choices import ObligationStatus
from apps.notifications.selectors import obligation_list, obligation_overdue, outbox_health
from apps.response.choices import IncidentStatus
from apps.response.selectors import incident_visible
from apps.tenancy.models import Tenant
from apps.tenancy.views import request_access

register = template.Library()


def _hours(value):
    if value is None:
        return "—"
    return f"{value / 24:.1f} d" if value >= 48 else f"{value:.1f} h"


@register.simple_tag(takes_context=True)
def admin_figures(context):
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return None
    access = request_access(request)
    tenant_ids = overseen_tenant_ids(access)
    if not tenant_ids:
        return None
    now = timezone.now()
    today = timezone.localdate()
    metrics = metrics_for(tenant_ids=tenant_ids, period=Period(today - timedelta(days=364), today))
    open_incidents = (
        incident_visible(access=access).filter(tenant_id__in=tenant_ids).exclude(status=IncidentStatus.CLOSED)
    )
    by_severity = {
        row["severity"] or "none": row["n"]
        for row in open_incidents.order_by().values("severity").annotate(n=Count("pk"))
    }
    obligations = obligation_list(access=access).filter(tenant_id__in=tenant_ids)
    pending = obligations.filter(status=ObligationStatus.PENDING, due_at__gte=now)
    times = metrics["time_to_hours"]
    actions = metrics["actions"]
    return {
        "tenants": Tenant.objects.filter(id__in=tenant_ids).count(),
        "open": sum(by_severity.values()),
        "by_severity": [(s, by_severity.get(s, 0)) for s in ("P1", "P2", "P3", "P4")],
        "due_24": pending.filter(due_at__lt=now + timedelta(hours=24)).count(),
        "due_72": pending.filter(due_at__lt=now + timedelta(hours=72)).count(),
        "overdue_obligations": obligation_overdue(obligations).count(),
        "overdue_actions": actions["response_overdue"] + actions["corrective_overdue"],
        "contain": _hours(times["contain"]["median"]),
        "close": _hours(times["close"]["median"]),
        "incidents_year": metrics["incidents"]["total"],
    }


@register.simple_tag(takes_context=True)
def outbox_problems(context):
    """Failing and given-up outbound messages, for the platform administrators' banner (the outbox holds
    every tenant's messages; its admin is theirs only)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated or not request_access(request).is_superuser:
        return None
    health = outbox_health()
    return health if health["failing"] or health["dead"] else None
