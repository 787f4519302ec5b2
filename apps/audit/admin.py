from django.contrib import admin

from apps.audit.models import AuditEntry
from apps.audit.selectors import audit_entry_list
from apps.core.identity import redact_recorded
from apps.tenancy.admin_site import ReadOnlyModelAdmin
from apps.tenancy.roles import Scope


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyModelAdmin):
    list_display = ["at", "tenant", "actor", "verb", "target", "channel", "address"]
    list_filter = ["channel"]
    search_fields = ["verb", "target_repr", "actor_repr", "target_id"]
    list_select_related = ["tenant"]
    date_hierarchy = None

    @admin.display(description="actor", ordering="actor_repr")
    def actor(self, entry: AuditEntry) -> str:
        return entry.actor_repr

    @admin.display(description="target", ordering="target_repr")
    def target(self, entry: AuditEntry) -> str:
        return entry.target_repr

    @admin.display(description="ip")
    def address(self, entry: AuditEntry) -> str | None:
        return redact_recorded(_fields(entry))["ip"]

    def get_queryset(self, request):
        return audit_entry_list(access=request.access)

    def get_object(self, request, object_id, from_field=None):
        """The row as it may be shown: one marked confidential names nobody (apps.core.identity), in
        memory only (the row is append-only and hash-chained)."""
        entry = super().get_object(request, object_id, from_field)
        if entry is not None:
            for name, value in redact_recorded(_fields(entry)).items():
                setattr(entry, name, value)
        return entry

    def has_view_permission(self, request, obj=None):
        return request.access.is_superuser or request.access.has_any_scope(Scope.AUDIT_READ)


def _fields(entry: AuditEntry) -> dict:
    names = ("actor_id", "actor_repr", "changes", "data", "ip", "user_agent", "confidential")
    return {name: getattr(entry, name) for name in names}
