"""Home, "report something", its confirmation and "my reports"."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import FormView, TemplateView

from apps.evidence.choices import CollectionMethod, EvidenceSource
from apps.evidence.selectors import evidence_list
from apps.evidence.services import evidence_add
from apps.notifications.choices import ObligationStatus
from apps.notifications.selectors import obligation_list
from apps.reporting.choices import ReportStatus
from apps.reporting.models import Report
from apps.reporting.outcome import report_outcome
from apps.reporting.selectors import report_get, report_list
from apps.reporting.services import report_acknowledgement, report_create
from apps.response.choices import IncidentStatus
from apps.response.selectors import incident_visible
from apps.tenancy.models import Tenant
from apps.tenancy.roles import Scope
from apps.web.forms import ReportForm
from apps.web.uploads import UploadTooLarge, accepts_upload, stream_upload
from apps.web.views.base import PageMixin, apply_service_errors, selected_tenant_id


def _in_filter(queryset, tenant_id):
    return queryset.filter(tenant_id=tenant_id) if tenant_id else queryset


def _with_outcomes(reports) -> list[Report]:
    """The caller's own reports, each with the `outcome` a reporter is told (apps.reporting.outcome)."""
    reports = list(reports.select_related("tenant", "incident"))
    for report in reports:
        report.outcome = report_outcome(report)
    return reports


class HomeView(PageMixin, TemplateView):
    template_name = "web/home.html"
    section = "home"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        access, user = self.access, self.request.user
        tenant_id = selected_tenant_id(self.request)
        context["my_reports"] = _with_outcomes(
            _in_filter(report_list(access=access), tenant_id)
            .filter(reporter_id=user.pk)
            .order_by("-received_at")[:5]
        )
        if access.has_any_scope(Scope.REPORT_READ):
            queue = report_list(access=access).filter(
                tenant_id__in=access.tenants_with(Scope.REPORT_READ), status=ReportStatus.NEW
            )
            context["queue_count"] = _in_filter(queue, tenant_id).count()
        if access.has_any_scope(Scope.INCIDENT_READ):
            open_incidents = _in_filter(incident_visible(access=access), tenant_id).exclude(
                status=IncidentStatus.CLOSED
            )
            context["open_count"] = open_incidents.count()
            context["open_by_severity"] = {
                sev: open_incidents.filter(severity=sev).count() for sev in ("P1", "P2", "P3", "P4")
            }
        if access.has_any_scope(Scope.OBLIGATION_READ):
            context["deadlines"] = (
                _in_filter(obligation_list(access=access), tenant_id)
                .filter(status=ObligationStatus.PENDING, due_at__lte=timezone.now() + timedelta(hours=72))
                .order_by("due_at")[:8]
            )
        return context


@method_decorator(csrf_exempt, name="dispatch")  # checked in post(), after the upload handler is set
class ReportCreateView(PageMixin, FormView):
    template_name = "web/report_form.html"
    form_class = ReportForm
    section = "report"

    def tenants(self):
        ids = self.access.tenants_with(Scope.REPORT_CREATE)
        return list(Tenant.objects.filter(id__in=ids).order_by("path"))

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        tenants = self.tenants()
        kwargs["tenants"] = tenants
        chosen = selected_tenant_id(self.request)
        default = next((t for t in tenants if t.pk == chosen), tenants[0] if tenants else None)
        if default is not None:
            kwargs.setdefault("initial", {})["tenant"] = str(default.pk)
        return kwargs

    def get(self, request, *args, **kwargs):
        self.require(Scope.REPORT_CREATE)
        return super().get(request, *args, **kwargs)

    @accepts_upload
    def post(self, request, *args, **kwargs):
        self.require(Scope.REPORT_CREATE)
        try:
            refused = stream_upload(request)
        except UploadTooLarge as exc:
            messages.error(request, str(exc.detail))
            return redirect("web:report")
        if refused is not None:
            return refused
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        tenants = {str(t.pk): t for t in self.tenants()}
        tenant = tenants.get(data.get("tenant") or "") or (next(iter(tenants.values())) if tenants else None)
        if tenant is None:
            form.add_error(None, _("You are not a member of any department."))
            return self.form_invalid(form)
        try:
            with transaction.atomic():
                report = report_create(
                    actor=self.request.user,
                    access=self.access,
                    tenant=tenant,
                    kind=data["kind"],
                    title=data["title"],
                    description=data["description"],
                    occurred_at=data["occurred_at"],
                    confidential=data["confidential"],
                )
                if data.get("attachment"):
                    evidence_add(
                        actor=self.request.user,
                        access=self.access,
                        file=data["attachment"],
                        report=report,
                        source=EvidenceSource.PERSON,
                        method=CollectionMethod.OTHER,
                        description=_("Attached by the reporter when filing."),
                    )
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "file" in exc.error_dict:
                exc = ValidationError({"attachment": exc.error_dict["file"]})
            apply_service_errors(form, exc)
            return self.form_invalid(form)
        return redirect("web:report-filed", report_id=report.pk)


class ReportFiledView(PageMixin, TemplateView):
    template_name = "web/report_filed.html"
    section = "report"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            report = report_get(access=self.access, report_id=self.kwargs["report_id"])
        except Report.DoesNotExist:
            raise Http404 from None
        context["report"] = report
        context["outcome"] = report_outcome(report)
        context["acknowledgement"] = report_acknowledgement(report=report)
        context["attachments"] = evidence_list(access=self.access).filter(report=report)
        return context


class MyReportsView(PageMixin, TemplateView):
    template_name = "web/my_reports.html"
    section = "my-reports"
    title = "My reports"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        reports = report_list(access=self.access).filter(reporter_id=self.request.user.pk)
        context["reports"] = _with_outcomes(
            _in_filter(reports, selected_tenant_id(self.request)).order_by("-received_at")
        )
        return context
