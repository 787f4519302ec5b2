"""The handlers' queue of reports and the assessment form (A.5.25)."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from apps.assessment.services import assessment_record
from apps.catalog.selectors import category_list, severity_matrix_for
from apps.core.errors import Conflict
from apps.evidence.selectors import evidence_list
from apps.reporting.choices import ReportKind, ReportStatus
from apps.reporting.models import Report
from apps.reporting.selectors import report_get, report_list
from apps.response.choices import IncidentStatus
from apps.response.selectors import Need, incident_visible
from apps.tenancy.roles import Scope
from apps.web.forms import AssessmentForm
from apps.web.views.base import PageMixin, apply_service_errors, selected_tenant_id

PAGE_SIZE = 50
# How far back the duplicate picker looks (the API takes any report of the tenant).
DUPLICATE_WINDOW = timedelta(days=90)


class QueueView(PageMixin, TemplateView):
    template_name = "web/queue.html"
    section = "queue"
    title = "Queue"

    def get_context_data(self, **kwargs):
        self.require(Scope.REPORT_READ)
        context = super().get_context_data(**kwargs)
        params = self.request.GET
        reports = report_list(access=self.access).filter(
            tenant_id__in=self.access.tenants_with(Scope.REPORT_READ)
        )
        tenant_id = selected_tenant_id(self.request)
        if tenant_id:
            reports = reports.filter(tenant_id=tenant_id)
        status = params.get("status", ReportStatus.NEW)
        if status in ReportStatus.values:
            reports = reports.filter(status=status)
        kind = params.get("kind", "")
        if kind in ReportKind.values:
            reports = reports.filter(kind=kind)
        q = params.get("q", "").strip()
        if q:
            reports = reports.filter(
                Q(reference__icontains=q) | Q(title__icontains=q) | Q(description__icontains=q)
            )
        reports = (
            reports.select_related("tenant", "reporter", "incident")
            .annotate(attachment_count=Count("evidence"))
            .order_by("received_at", "id")
        )
        page = Paginator(reports, PAGE_SIZE).get_page(params.get("page"))
        # A triaged report links its incident only for those who see it (report_list's shown_incident_id).
        context.update(
            page=page,
            status=status if status in ReportStatus.values else "",
            kind=kind,
            q=q,
            statuses=ReportStatus.choices,
            kinds=ReportKind.choices,
        )
        return context


class AssessView(PageMixin, FormView):
    template_name = "web/assess.html"
    form_class = AssessmentForm
    section = "queue"

    def get_report(self) -> Report:
        if not hasattr(self, "report"):
            try:
                self.report = report_get(access=self.access, report_id=self.kwargs["report_id"])
            except Report.DoesNotExist:
                raise Http404 from None
            self.require(Scope.REPORT_ASSESS, self.report.tenant_id)
            self.matrix = severity_matrix_for(tenant_id=self.report.tenant_id)
        return self.report

    def get_form_kwargs(self):
        report = self.get_report()
        kwargs = super().get_form_kwargs()
        own_or_shipped = Q(tenant__isnull=True) | Q(tenant_id=report.tenant_id)
        recent = timezone.now() - DUPLICATE_WINDOW
        kwargs.update(
            categories=category_list().filter(own_or_shipped).order_by("parent__name", "name"),
            matrix=self.matrix,
            reports=report_list(access=self.access)
            .filter(tenant_id=report.tenant_id, received_at__gte=recent)
            .exclude(pk=report.pk)
            .order_by("-received_at"),
            # Linking a report adds a child to the incident: only one seen in full (Need.FULL).
            incidents=incident_visible(access=self.access, need=Need.FULL)
            .filter(tenant_id=report.tenant_id)
            .exclude(status=IncidentStatus.CLOSED)
            .order_by("-declared_at"),
        )
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report, matrix = self.get_report(), self.matrix
        context.update(
            report=report,
            attachments=evidence_list(access=self.access).filter(report=report),
            matrix=matrix,
            matrix_rows=[
                {
                    "impact": impact,
                    "cells": [(urgency, matrix.matrix[impact][urgency]) for urgency in matrix.urgency_levels],
                }
                for impact in reversed(matrix.impact_levels)
            ],
            page_title=report.reference,
        )
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            assessment = assessment_record(
                actor=self.request.user,
                access=self.access,
                report=self.get_report(),
                decision=data["decision"],
                rationale=data["rationale"],
                category=data.get("category"),
                impact=data.get("impact") or "",
                urgency=data.get("urgency") or "",
                duplicate_of=data.get("duplicate_of"),
                incident=data.get("incident"),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
            return self.form_invalid(form)
        except Conflict as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        if assessment.incident_id:
            verb = _("opened") if assessment.incident_opened else _("linked to")
            messages.success(
                self.request,
                _("%(report)s assessed: %(verb)s incident %(incident)s.")
                % {"report": self.report.reference, "verb": verb, "incident": assessment.incident.reference},
            )
            return redirect("web:incident", incident_id=assessment.incident_id)
        messages.success(self.request, _("%(report)s assessed.") % {"report": self.report.reference})
        return redirect("web:queue")
