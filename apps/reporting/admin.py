from django.contrib import admin

from apps.reporting import selectors
from apps.reporting.models import Report
from apps.tenancy.admin_site import ReadOnlyModelAdmin


@admin.register(Report)
class ReportAdmin(ReadOnlyModelAdmin):
    """Reports, read-only (they change through assessments). The reporter of a confidential report is
    shown only where the selector says the signed-in person may see it."""

    list_display = ["reference", "title", "tenant", "kind", "status", "confidential", "received_at"]
    list_filter = ["status", "kind", "confidential"]
    search_fields = ["reference", "title"]
    list_select_related = ["tenant"]
    fields = [
        "reference",
        "tenant",
        "kind",
        "title",
        "description",
        "occurred_at",
        "detected_at",
        "confidential",
        "reported_by",
        "status",
        "channel",
        "received_at",
        "acknowledged_at",
        "became_incident",
        "duplicate_of",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.report_list(access=request.access).select_related("reporter", "incident")

    @admin.display(description="reporter")
    def reported_by(self, report: Report) -> str:
        if getattr(report, "reporter_visible", not report.confidential):
            return str(report.reporter)
        return "(confidential)"

    @admin.display(description="incident")
    def became_incident(self, report: Report) -> str:
        # The incident it became only for those who see that incident (report_list's shown_incident_id).
        return str(report.incident) if getattr(report, "shown_incident_id", None) else "-"
