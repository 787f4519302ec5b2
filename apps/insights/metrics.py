"""Response metrics: how long assessment, containment, recovery and closure take, and counts."""

from datetime import UTC

from django.db.models import Aggregate, Avg, Count, F, FloatField, Func, Min, OuterRef, Q, Subquery
from django.db.models.functions import TruncMonth
from django.utils import timezone

from apps.assessment.models import Assessment
from apps.insights.period import Period
from apps.reporting.models import Report
from apps.response.choices import ActionStatus
from apps.response.models import Incident, ResponseAction
from apps.reviews.choices import PENDING_STATUSES
from apps.reviews.models import CorrectiveAction


class Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class EpochHours(Func):
    """(later - earlier) in hours, as a float."""

    template = "EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0"
    arg_joiner = " - "
    output_field = FloatField()


def _duration_stats(queryset, *, start: str, end: str) -> dict:
    hours = EpochHours(F(end), F(start))
    stats = queryset.filter(**{f"{end}__isnull": False}).aggregate(
        count=Count("pk"), mean=Avg(hours), median=Median(hours)
    )
    return {name: (round(value, 2) if isinstance(value, float) else value) for name, value in stats.items()}


def _counts(queryset, field: str) -> dict:
    rows = queryset.values(field).annotate(n=Count("pk")).order_by(field)
    return {str(row[field] or "none"): row["n"] for row in rows}


def metrics_for(*, tenant_ids: frozenset, period: Period) -> dict:
    """Everything the dashboard and the management review need, in a fixed number of queries."""
    incidents = Incident.objects.filter(
        tenant_id__in=tenant_ids, declared_at__gte=period.start, declared_at__lt=period.end
    )
    first_decision = (
        Assessment.objects.filter(report=OuterRef("pk"))
        .order_by()
        .values("report")
        .annotate(at=Min("decided_at"))
    )
    reports = Report.objects.filter(
        tenant_id__in=tenant_ids, received_at__gte=period.start, received_at__lt=period.end
    ).annotate(assessed_at=Subquery(first_decision.values("at")))
    now = timezone.now()
    response_actions = ResponseAction.objects.filter(tenant_id__in=tenant_ids)
    corrective = CorrectiveAction.objects.filter(tenant_id__in=tenant_ids)
    return {
        "time_to_hours": {
            "assess": _duration_stats(reports, start="received_at", end="assessed_at"),
            "contain": _duration_stats(incidents, start="declared_at", end="contained_at"),
            "recover": _duration_stats(incidents, start="declared_at", end="recovered_at"),
            "close": _duration_stats(incidents, start="declared_at", end="closed_at"),
        },
        "incidents": {
            "total": incidents.count(),
            "by_severity": _counts(incidents, "severity"),
            "by_status": _counts(incidents, "status"),
            "by_category": _counts(incidents, "category__code"),
            "by_tenant": _counts(incidents, "tenant__slug"),
            "by_month": {
                row["month"].date().isoformat()[:7]: row["n"]
                for row in incidents.annotate(month=TruncMonth("declared_at", tzinfo=UTC))
                .values("month")
                .annotate(n=Count("pk"))
                .order_by("month")
            },
        },
        "reports": {"total": reports.count(), "by_kind": _counts(reports, "kind")},
        "actions": response_actions.aggregate(
            response_open=Count("pk", filter=Q(status=ActionStatus.OPEN)),
            response_overdue=Count("pk", filter=Q(status=ActionStatus.OPEN, due_at__lt=now)),
        )
        | corrective.aggregate(
            corrective_open=Count("pk", filter=Q(status__in=PENDING_STATUSES)),
            corrective_overdue=Count("pk", filter=Q(status__in=PENDING_STATUSES, due_at__lt=now)),
        ),
    }
