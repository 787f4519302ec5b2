from django.contrib import admin

from apps.evidence import selectors
from apps.evidence.models import CustodyEvent, Evidence
from apps.tenancy.admin_site import ReadOnlyInline, ReadOnlyModelAdmin


class CustodyInline(ReadOnlyInline):
    model = CustodyEvent
    fields = ["at", "action", "from_holder", "to_holder", "purpose", "location", "by"]

    def get_queryset(self, request):
        return CustodyEvent.objects.order_by("at", "recorded_at")


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyModelAdmin):
    """The evidence register, read-only: nothing here adds, changes or deletes an item or its bytes."""

    list_display = [
        "original_name",
        "tenant",
        "incident",
        "sha256",
        "size",
        "uploaded_at",
        "last_verification_ok",
    ]
    list_filter = ["method", "source", "last_verification_ok"]
    search_fields = ["original_name", "sha256"]
    list_select_related = ["tenant", "incident"]
    fields = [
        "tenant",
        "incident",
        "report",
        "original_name",
        "sha256",
        "size",
        "storage_key",
        "declared_content_type",
        "detected_content_type",
        "description",
        "source",
        "source_detail",
        "method",
        "tool",
        "tool_version",
        "collected_at",
        "collected_where",
        "uploaded_at",
        "seal_number",
        "location",
        "supersedes",
        "correction_reason",
        "last_verified_at",
        "last_verification_ok",
    ]
    readonly_fields = fields
    inlines = [CustodyInline]

    def get_queryset(self, request):
        return selectors.evidence_list(access=request.access).select_related("tenant")


@admin.register(CustodyEvent)
class CustodyEventAdmin(ReadOnlyModelAdmin):
    list_display = ["at", "action", "evidence", "actor_repr", "from_holder", "to_holder"]
    list_filter = ["action"]
    fields = [
        "evidence",
        "action",
        "from_holder",
        "to_holder",
        "purpose",
        "location",
        "at",
        "actor_repr",
        "data",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        visible = selectors.evidence_list(access=request.access).filter(identity_hidden=False)
        return CustodyEvent.objects.filter(evidence__in=visible.values("pk")).select_related("evidence")
