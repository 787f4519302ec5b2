"""Response metrics: how long assessment, containment, recovery and closure take, and counts."""

from datetime import UTC

from django.db.models import Aggregate, Avg, Count, Exists, F, FloatField, Func, OuterRef, Q, Value
from django.db.models.functions import TruncMonth
from django.utils import timezone

from apps.assessment.models import Assessment
from apps.insights.batch import fetch_together
from apps.insights.cache import cached
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


def _durations(*, start: str, **ends: str) -> dict:
    """count, mean and median hours from `start` to each end (rows whose end is null are left out)."""
    figures = {}
    for name, end in ends.items():
        hours = EpochHours(F(end), F(start))
        figures |= {f"{name}_count": Count(end), f"{name}_mean": Avg(hours), f"{name}_median": Median(hours)}
    return figures


def _stats(row: dict, name: str) -> dict:
    values = {key: row.get(f"{name}_{key}") for key in ("count", "mean", "median")}
    values["count"] = values["count"] or 0
    return {key: (round(value, 2) if isinstance(value, float) else value) for key, value in values.items()}


def _by(queryset, field: str, **names) -> object:
    return queryset.order_by().values(field, **names).annotate(n=Count("pk"))


def _tally(rows: list[dict], field: str) -> dict:
    return {
        str(row[field] or "none"): row["n"]
        for row in sorted(rows, key=lambda r: (r[field] is not None, r[field] or ""))
    }


def metrics_for(*, tenant_ids: frozenset, period: Period) -> dict:
    return cached(
        "metrics",
        tenant_ids=tenant_ids,
        period=period,
        compute=lambda: metrics_computed(tenant_ids=tenant_ids, period=period),
    )


def metrics_computed(*, tenant_ids: frozenset, period: Period) -> dict:
    """Everything the dashboard and the management review need, in one SQL statement (apps.insights.batch):
    each figure is an aggregate over the tenants' rows of the period, read through the tenant-and-date
    indexes of apps/insights/migrations. Repeated reads are served from apps.insights.cache."""
    incidents = Incident.objects.filter(
        tenant_id__in=tenant_ids, declared_at__gte=period.start, declared_at__lt=period.end
    )
    # Time to assess: each report's first decision. Read from the decisions that have no earlier one for
    # the same report (an anti-join, one pass), not as a subquery per report (a probe per report, repeated
    # for each of the three figures: seconds at 1M incidents).
    earlier = Assessment.objects.filter(report=OuterRef("report")).filter(
        Q(decided_at__lt=OuterRef("decided_at")) | Q(decided_at=OuterRef("decided_at"), pk__lt=OuterRef("pk"))
    )
    first_decisions = Assessment.objects.filter(
        report__tenant_id__in=tenant_ids,
        report__received_at__gte=period.start,
        report__received_at__lt=period.end,
    ).exclude(Exists(earlier))
    reports = Report.objects.filter(
        tenant_id__in=tenant_ids, received_at__gte=period.start, received_at__lt=period.end
    )
    now = timezone.now()
    response_actions = ResponseAction.objects.filter(tenant_id__in=tenant_ids, status=ActionStatus.OPEN)
    corrective = CorrectiveAction.objects.filter(tenant_id__in=tenant_ids, status__in=PENDING_STATUSES)
    one = {"one": Value(1)}
    rows = fetch_together(
        {
            "incidents": incidents.order_by()
            .values(**one)
            .annotate(
                total=Count("pk"),
                **_durations(
                    start="declared_at", contain="contained_at", recover="recovered_at", close="closed_at"
                ),
            ),
            "assess": first_decisions.order_by()
            .values(**one)
            .annotate(**_durations(start="report__received_at", assess="decided_at")),
            "by_severity": _by(incidents, "severity"),
            "by_status": _by(incidents, "status"),
            "by_category": _by(incidents, "category__code"),
            "by_tenant": _by(incidents, "tenant__slug"),
            "by_month": _by(incidents, "month", month=TruncMonth("declared_at", tzinfo=UTC)),
            "reports": _by(reports, "kind"),
            "response_actions": response_actions.order_by()
            .values(**one)
            .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now))),
            "corrective": corrective.order_by()
            .values(**one)
            .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now))),
        }
    )
    figures = rows["incidents"][0] if rows["incidents"] else {}
    assess = rows["assess"][0] if rows["assess"] else {}
    actions = rows["response_actions"][0] if rows["response_actions"] else {}
    corrective_row = rows["corrective"][0] if rows["corrective"] else {}
    return {
        "time_to_hours": {
            "assess": _stats(assess, "assess"),
            "contain": _stats(figures, "contain"),
            "recover": _stats(figures, "recover"),
            "close": _stats(figures, "close"),
        },
        "incidents": {
            "total": figures.get("total", 0),
            "by_severity": _tally(rows["by_severity"], "severity"),
            "by_status": _tally(rows["by_status"], "status"),
            "by_category": _tally(rows["by_category"], "category__code"),
            "by_tenant": _tally(rows["by_tenant"], "tenant__slug"),
            "by_month": {
                row["month"][:7]: row["n"] for row in sorted(rows["by_month"], key=lambda r: r["month"])
            },
        },
        "reports": {
            "total": sum(row["n"] for row in rows["reports"]),
            "by_kind": _tally(rows["reports"], "kind"),
        },
        "actions": {
            "response_open": actions.get("open", 0),
            "response_overdue": actions.get("overdue", 0),
            "corrective_open": corrective_row.get("open", 0),
            "corrective_overdue": corrective_row.get("overdue", 0),
        },
    }
