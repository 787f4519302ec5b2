"""What every page of apps.web shares: sign-in required, the tenant context (TenantScopedViewMixin), the
navigation by role, the tenant filter, and how services' errors are shown."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict
from apps.tenancy.models import Tenant
from apps.tenancy.roles import Scope
from apps.tenancy.views import TenantScopedViewMixin, request_access

TENANT_SESSION_KEY = "web_tenant"

# (url name, label, scope needed in some tenant or None for every member, section key)
NAVIGATION = [
    ("web:report", _("Report"), None, "report"),
    ("web:my-reports", _("My reports"), None, "my-reports"),
    ("web:training", _("Training"), None, "training"),
    ("web:queue", _("Queue"), Scope.REPORT_READ, "queue"),
    ("web:incidents", _("Incidents"), Scope.INCIDENT_READ, "incidents"),
    ("web:reviews", _("Reviews"), Scope.INCIDENT_READ, "reviews"),
    ("web:dashboard", _("Dashboard"), Scope.DASHBOARD_READ, "dashboard"),
    ("web:iso27001", _("Reports (ISO)"), Scope.DASHBOARD_READ, "iso"),
]


def visible_tenants(access) -> list[Tenant]:
    return list(Tenant.objects.filter(id__in=access.tenant_ids).order_by("path"))


def selected_tenant_id(request):
    """The tenant the header filter narrows lists to (None: all the caller's tenants)."""
    access = request_access(request)
    raw = request.GET.get("tenant") or request.session.get(TENANT_SESSION_KEY)
    for tenant_id in access.tenant_ids:
        if str(tenant_id) == str(raw):
            return tenant_id
    return None


def apply_service_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: known fields to their field, the rest on top."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class PageMixin(LoginRequiredMixin, TenantScopedViewMixin):
    """Mixed into every page view: sign-in first, then the tenant context for the whole request."""

    login_url = reverse_lazy("web:sign-in")
    section = ""
    title = ""

    @property
    def access(self):
        return request_access(self.request)

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        tz = self._time_zone(request)
        timezone.activate(tz)
        try:
            return super().dispatch(request, *args, **kwargs)
        except Http404:
            return self.error_page("web/404.html", status=404)
        except PermissionDenied as exc:
            return self.error_page("web/403.html", status=403, message=str(exc))
        finally:
            timezone.deactivate()

    def _time_zone(self, request):
        """Times are shown (and typed) in the selected tenant's time zone, else the first tenant's."""
        chosen = selected_tenant_id(request)
        ids = [chosen] if chosen else request_access(request).tenant_ids
        tenants = Tenant.objects.filter(id__in=ids).order_by("path")
        name = tenants.values_list("time_zone", flat=True).first() or "UTC"
        return zoneinfo.ZoneInfo(name)

    def error_page(self, template: str, *, status: int, message: str = ""):
        from apps.tenancy.context import activate

        with activate(self.access):
            response = TemplateResponse(
                self.request, template, {**self.layout_context(), "message": message}, status=status
            )
            response.render()
        return response

    def require(self, scope: str, tenant_id=None) -> None:
        """Pages offered to roles: PermissionDenied (the 403 page) when the caller holds the scope nowhere
        (or not in that tenant). The services check again on every write."""
        allowed = self.access.has_scope(tenant_id, scope) if tenant_id else self.access.has_any_scope(scope)
        if not allowed:
            raise PermissionDenied(_("Your role does not give access to this page."))

    def conflict(self, exc: Conflict, to: str):
        messages.error(self.request, str(exc))
        return redirect(to)

    def layout_context(self) -> dict:
        access = self.access
        tenants = visible_tenants(access) if len(access.tenant_ids) > 1 else []
        nav = [
            {"url": reverse(name), "label": label, "current": key == self.section}
            for name, label, scope, key in NAVIGATION
            if scope is None or access.has_any_scope(scope)
        ]
        from apps.web.views.notifications import unread_count

        return {
            "unread_notifications": unread_count(access),
            "notifications_current": self.section == "notifications",
            "nav": nav,
            "tenant_choices": tenants,
            "selected_tenant": selected_tenant_id(self.request),
            "show_admin": self.request.user.is_superuser or access.has_any_scope(Scope.ADMIN_SITE),
            "page_title": self.title,
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.layout_context())
        return context


def wants_json(request) -> bool:
    """The upload form's script asks for JSON (it shows progress, then follows the redirect itself)."""
    return request.headers.get("Accept", "").startswith("application/json")
