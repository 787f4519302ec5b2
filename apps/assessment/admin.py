from django.contrib import admin

from apps.assessment import selectors
from apps.assessment.models import Assessment
from apps.tenancy.admin_site import ReadOnlyModelAdmin
from apps.tenancy.roles import Scope


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyModelAdmin):
    """Decisions on reports: append-only, so read-only here too (a correction is a new assessment)."""

    list_display = ["decided_at", "report", "tenant", "decision", "severity", "decided_by"]
    list_filter = ["decision", "severity"]
    search_fields = ["report__reference", "rationale"]
    list_select_related = ["report", "tenant", "decided_by"]

    def get_queryset(self, request):
        return selectors.assessment_list(access=request.access).select_related("tenant", "decided_by")

    def has_view_permission(self, request, obj=None):
        return request.access.is_superuser or request.access.has_any_scope(Scope.REPORT_READ)
