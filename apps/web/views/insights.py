"""Dashboards (per department for managers, across departments for executives) and the ISO/IEC 27001
evidence report, inside the layout. Figures come from apps.insights; lists from the apps' selectors, so
what a person sees here is what they may see elsewhere."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, F
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.formats import date_format
from django.views.generic import TemplateView

from apps.insights.iso27001 import iso27001_report
from apps.insights.metrics import EpochHours, Median, metrics_for
from apps.insights.period import Period, period_from
from apps.insights.selectors import overseen_tenant_ids
from apps.notifications.choices import ObligationStatus
from apps.notifications.selectors import obligation_list, obligation_overdue
from apps.response.choices import ActionStatus, IncidentStatus
from apps.response.models import Incident, ResponseAction
from apps.response.selectors import Need, incident_visible
from apps.reviews.selectors import corrective_action_list, corrective_action_overdue
from apps.tenancy.context import activate
from apps.tenancy.models import Tenant
from apps.tenancy.roles import Scope
from apps.web import charts
from apps.web.forms import PeriodForm
from apps.web.views.base import PageMixin, selected_tenant_id

TREND_MONTHS = 12


def _month_starts(today: date, count: int) -> list[date]:
    first = today.replace(day=1)
    months = []
    for _ in range(count):
        months.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(months))


def dashboard_tenant_ids(request, access) -> frozenset:
    ids = overseen_tenant_ids(access)
    chosen = selected_tenant_id(request)
    return ids & {chosen} if chosen else ids


def _hours(value) -> str:
    if value is None:
        return "—"
    if value >= 48:
        return f"{value / 24:.1f} d"
    return f"{value:.1f} h"


def _time_texts(stats: dict) -> dict:
    return {**stats, "mean_text": _hours(stats["mean"]), "median_text": _hours(stats["median"])}


class DashboardView(PageMixin, TemplateView):
    template_name = "web/dashboard.html"
    section = "dashboard"
    title = "Dashboard"

    def get_context_data(self, **kwargs):
        self.require(Scope.DASHBOARD_READ)
        context = super().get_context_data(**kwargs)
        access = self.access
        tenant_ids = dashboard_tenant_ids(self.request, access)
        now = timezone.now()
        tenants = list(Tenant.objects.filter(id__in=tenant_ids).order_by("name"))

        # Open incidents by department and severity (restricted ones count, as title and severity).
        visible = incident_visible(access=access).filter(tenant_id__in=tenant_ids)
        open_rows = (
            visible.exclude(status=IncidentStatus.CLOSED)
            .order_by()
            .values("tenant_id", "severity")
            .annotate(n=Count("pk"))
        )
        grid = {(row["tenant_id"], row["severity"] or ""): row["n"] for row in open_rows}
        severities = [*charts.SEVERITIES, ""]
        by_tenant = [
            {
                "tenant": tenant,
                "cells": [grid.get((tenant.pk, s), 0) for s in severities],
                "total": sum(grid.get((tenant.pk, s), 0) for s in severities),
            }
            for tenant in tenants
        ]
        severity_totals = [sum(grid.get((t.pk, s), 0) for t in tenants) for s in severities]

        # Deadlines and what is overdue.
        obligations = obligation_list(access=access).filter(tenant_id__in=tenant_ids)
        upcoming = list(
            obligations.filter(
                status=ObligationStatus.PENDING, due_at__gte=now, due_at__lt=now + timedelta(hours=72)
            )
            .select_related("incident__tenant")
            .order_by("due_at", "id")[:50]
        )
        overdue_obligations = list(
            obligation_overdue(obligations).select_related("incident__tenant").order_by("due_at", "id")[:50]
        )
        readable = incident_visible(access=access, need=Need.FULL).values("pk")
        overdue_response = list(
            ResponseAction.objects.filter(
                tenant_id__in=tenant_ids,
                incident_id__in=readable,
                status=ActionStatus.OPEN,
                due_at__lt=now,
            )
            .select_related("incident", "assignee")
            .order_by("due_at")[:50]
        )
        overdue_corrective = list(
            corrective_action_overdue(corrective_action_list(access=access).filter(tenant_id__in=tenant_ids))
            .select_related("review__incident", "owner")
            .order_by("due_at")[:50]
        )

        # Trends over the last twelve months.
        months = _month_starts(timezone.localdate(), TREND_MONTHS)
        period = Period(months[0], timezone.localdate())
        keys = [m.isoformat()[:7] for m in months]
        labels = [date_format(m, "M") for m in months]
        in_period = Incident.objects.filter(
            tenant_id__in=tenant_ids, declared_at__gte=period.start, declared_at__lt=period.end
        )
        monthly = in_period.annotate(month=TruncMonth("declared_at", tzinfo=UTC)).order_by()
        counts = {
            (row["month"].date().isoformat()[:7], row["severity"] or ""): row["n"]
            for row in monthly.values("month", "severity").annotate(n=Count("pk"))
        }
        durations = {
            row["month"].date().isoformat()[:7]: row
            for row in monthly.values("month").annotate(
                contain=Median(EpochHours(F("contained_at"), F("declared_at"))),
                close=Median(EpochHours(F("closed_at"), F("declared_at"))),
            )
        }
        metrics = metrics_for(tenant_ids=tenant_ids, period=period)
        times = metrics["time_to_hours"]
        context.update(
            tenants=tenants,
            across=len(tenants) > 1,
            severities=[s or "none" for s in severities],
            by_tenant=by_tenant,
            severity_totals=severity_totals,
            open_total=sum(severity_totals),
            upcoming_24=[o for o in upcoming if o.due_at < now + timedelta(hours=24)],
            upcoming_72=[o for o in upcoming if o.due_at >= now + timedelta(hours=24)],
            overdue_obligations=overdue_obligations,
            overdue_response=overdue_response,
            overdue_corrective=overdue_corrective,
            overdue_actions_total=len(overdue_response) + len(overdue_corrective),
            incidents_chart=charts.stacked_bars(keys, labels, counts),
            duration_chart=charts.lines(
                labels,
                {
                    "contain": [durations.get(k, {}).get("contain") for k in keys],
                    "close": [durations.get(k, {}).get("close") for k in keys],
                },
            ),
            period=period,
            times={name: _time_texts(times[name]) for name in ("assess", "contain", "close")},
            metrics=metrics,
            now=now,
        )
        return context


class Iso27001ReportView(PageMixin, TemplateView):
    template_name = "web/iso27001.html"
    section = "iso"
    title = "ISO/IEC 27001 evidence report"

    def get_context_data(self, **kwargs):
        self.require(Scope.DASHBOARD_READ)
        context = super().get_context_data(**kwargs)
        params = self.request.GET
        form = PeriodForm(params or None)
        errors = []
        try:
            period = period_from(params.get("date_from"), params.get("date_to"))
        except ValidationError as exc:
            errors = exc.messages
            period = period_from(None, None)
        if not form.is_bound:
            form = PeriodForm(initial={"date_from": period.first_day, "date_to": period.last_day})
        tenant_ids = dashboard_tenant_ids(self.request, self.access)
        with activate(self.access, tenant_ids=tenant_ids):
            sections = iso27001_report(access=self.access, tenant_ids=tenant_ids, period=period)
        context.update(
            form=form,
            period_errors=errors,
            period=period,
            sections=[asdict(s) | {"gap_total": sum(g.count for g in s.gaps)} for s in sections],
            tenants=Tenant.objects.filter(id__in=tenant_ids).order_by("name"),
            generated_at=datetime.now(UTC),
            gap_total=sum(g.count for s in sections for g in s.gaps),
        )
        return context
