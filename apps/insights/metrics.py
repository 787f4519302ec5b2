"""Response metrics: how long assessment, containment, recovery and closure take, and counts."""

import math
import statistics
from collections import Counter
from datetime import UTC

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Aggregate, Count, Exists, F, FloatField, Func, OuterRef, Q, Value
from django.db.models.functions import TruncMonth
from django.utils import timezone

from apps.assessment.models import Assessment
from apps.insights.batch import fetch_together
from apps.insights.cache import PERIOD_FIGURES_SECONDS, cached, cached_parts
from apps.insights.period import Period
from apps.reporting.models import Report
from apps.response.choices import ActionStatus
from apps.response.models import Incident, ResponseAction
from apps.reviews.choices import PENDING_STATUSES
from apps.reviews.models import CorrectiveAction
from apps.tenancy.models import Tenant


class Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class EpochHours(Func):
    """(later - earlier) in hours, as a float."""

    template = "EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0"
    arg_joiner = " - "
    output_field = FloatField()


def _hours(*, start: str, end: str) -> ArrayAgg:
    """Every duration from `start` to `end` in hours (rows whose end is null are left out)."""
    return ArrayAgg(EpochHours(F(end), F(start)), filter=Q(**{f"{end}__isnull": False}))


def _stats(hours: list[float]) -> dict:
    """count, mean and median (percentile_cont(0.5)'s: the middle two averaged), as the reports show them."""
    if not hours:
        return {"count": 0, "mean": None, "median": None}
    return {
        "count": len(hours),
        "mean": round(math.fsum(hours) / len(hours), 2),
        "median": round(statistics.median(hours), 2),
    }


def _by(queryset, field: str, **names) -> object:
    return queryset.order_by().values("tenant_id", field, **names).annotate(n=Count("pk"))


def _tally(counts: Counter) -> dict:
    """{key or "none": n}, "none" first, then by key."""
    return {key or "none": counts[key] for key in sorted(counts, key=lambda k: (k is not None, k or ""))}


def metrics_for(*, tenant_ids: frozenset, period: Period) -> dict:
    """The metrics of `tenant_ids` over `period`, from the cache while none of the tenants changed. The
    period's figures are merged from per-tenant parts (apps.insights.cache.cached_parts: after a change in
    one tenant only its part is computed again, issue 7); the open actions, which move with the clock, are
    at most INSIGHTS_CACHE_SECONDS old."""
    figures = cached(
        "metrics",
        tenant_ids=tenant_ids,
        period=period,
        timeout=PERIOD_FIGURES_SECONDS,
        compute=lambda: metrics_merged(
            cached_parts(
                "metrics",
                tenant_ids=tenant_ids,
                period=period,
                compute=lambda missing: metric_parts(tenant_ids=missing, period=period),
            )
        ),
    )
    actions = cached(
        "metrics-actions",
        tenant_ids=tenant_ids,
        period=period,
        compute=lambda: open_actions(tenant_ids=tenant_ids),
    )
    return {**figures, "actions": actions}


def metrics_computed(*, tenant_ids: frozenset, period: Period) -> dict:
    """The same figures computed from the rows, without the cache."""
    figures = metrics_merged(metric_parts(tenant_ids=tenant_ids, period=period))
    return {**figures, "actions": open_actions(tenant_ids=tenant_ids)}


def metric_parts(*, tenant_ids: frozenset, period: Period) -> dict[str, dict]:
    """{tenant id: that tenant's figures of the period}, in one SQL statement (apps.insights.batch), read
    through the tenant-and-date indexes of apps/insights/migrations. A part keeps every duration, not
    their mean and median, so that parts merge into exact figures for any set of tenants."""
    incidents = Incident.objects.filter(
        tenant_id__in=tenant_ids, declared_at__gte=period.start, declared_at__lt=period.end
    )
    # Time to assess: each report's first decision. Read from the decisions that have no earlier one for
    # the same report (an anti-join, one pass), not as a subquery per report.
    earlier = Assessment.objects.filter(report=OuterRef("report")).filter(
        Q(decided_at__lt=OuterRef("decided_at")) | Q(decided_at=OuterRef("decided_at"), pk__lt=OuterRef("pk"))
    )
    first_decisions = Assessment.objects.filter(
        tenant_id__in=tenant_ids, report__received_at__gte=period.start, report__received_at__lt=period.end
    ).exclude(Exists(earlier))
    reports = Report.objects.filter(
        tenant_id__in=tenant_ids, received_at__gte=period.start, received_at__lt=period.end
    )
    rows = fetch_together(
        {
            "tenants": Tenant.objects.filter(id__in=tenant_ids).values("id", "slug"),
            "incidents": incidents.order_by()
            .values("tenant_id")
            .annotate(
                total=Count("pk"),
                contain=_hours(start="declared_at", end="contained_at"),
                recover=_hours(start="declared_at", end="recovered_at"),
                close=_hours(start="declared_at", end="closed_at"),
            ),
            # Decisions share their report's tenant (a same-tenant key).
            "assess": first_decisions.order_by()
            .values("tenant_id")
            .annotate(assess=_hours(start="report__received_at", end="decided_at")),
            "by_severity": _by(incidents, "severity"),
            "by_status": _by(incidents, "status"),
            "by_category": _by(incidents, "category__code"),
            "by_month": _by(incidents, "month", month=TruncMonth("declared_at", tzinfo=UTC)),
            "reports": _by(reports, "kind"),
        }
    )
    parts = {
        str(row["id"]): {
            "slug": row["slug"],
            "total": 0,
            "hours": {"assess": [], "contain": [], "recover": [], "close": []},
            "by_severity": {},
            "by_status": {},
            "by_category": {},
            "by_month": {},
            "reports": {},
        }
        for row in rows["tenants"]
    }
    for row in rows["incidents"]:
        part = parts[str(row["tenant_id"])]
        part["total"] = row["total"]
        part["hours"] |= {name: row[name] or [] for name in ("contain", "recover", "close")}
    for row in rows["assess"]:
        parts[str(row["tenant_id"])]["hours"]["assess"] = row["assess"] or []
    for name, field in [
        ("by_severity", "severity"),
        ("by_status", "status"),
        ("by_category", "category__code"),
        ("by_month", "month"),
        ("reports", "kind"),
    ]:
        for row in rows[name]:
            key = row[field][:7] if name == "by_month" else row[field]
            parts[str(row["tenant_id"])][name][key or ""] = row["n"]
    return parts


def open_actions(*, tenant_ids: frozenset) -> dict:
    """Open response and corrective actions and how many are overdue now (one statement)."""
    now = timezone.now()
    open_ones = {
        "response": ResponseAction.objects.filter(tenant_id__in=tenant_ids, status=ActionStatus.OPEN),
        "corrective": CorrectiveAction.objects.filter(tenant_id__in=tenant_ids, status__in=PENDING_STATUSES),
    }
    rows = fetch_together(
        {
            name: queryset.order_by()
            .values(one=Value(1))
            .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))
            for name, queryset in open_ones.items()
        }
    )
    response = rows["response"][0] if rows["response"] else {}
    corrective = rows["corrective"][0] if rows["corrective"] else {}
    return {
        "response_open": response.get("open", 0),
        "response_overdue": response.get("overdue", 0),
        "corrective_open": corrective.get("open", 0),
        "corrective_overdue": corrective.get("overdue", 0),
    }


def metrics_merged(parts: dict[str, dict]) -> dict:
    """The period's figures of several tenants from their parts: counts add up, durations are pooled."""
    tallies = {name: Counter() for name in ("by_severity", "by_status", "by_category", "by_month", "reports")}
    hours = {name: [] for name in ("assess", "contain", "recover", "close")}
    by_tenant = Counter()
    for part in parts.values():
        for name, counts in tallies.items():
            counts.update({key or None: n for key, n in part[name].items()})
        for name, values in hours.items():
            values.extend(part["hours"][name])
        if part["total"]:
            by_tenant[part["slug"]] += part["total"]
    return {
        "time_to_hours": {name: _stats(values) for name, values in hours.items()},
        "incidents": {
            "total": sum(by_tenant.values()),
            "by_severity": _tally(tallies["by_severity"]),
            "by_status": _tally(tallies["by_status"]),
            "by_category": _tally(tallies["by_category"]),
            "by_tenant": _tally(by_tenant),
            "by_month": dict(sorted(tallies["by_month"].items())),
        },
        "reports": {"total": sum(tallies["reports"].values()), "by_kind": _tally(tallies["reports"])},
    }
