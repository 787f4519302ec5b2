from django.contrib import admin

from apps.audit.models import AuditEntry
from apps.audit.selectors import audit_entry_list
from apps.tenancy.admin_site import ReadOnlyModelAdmin
from apps.tenancy.roles import Scope


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyModelAdmin):
    list_display = ["at", "tenant", "actor", "verb", "target", "channel", "ip"]
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

    def get_queryset(self, request):
        return audit_entry_list(access=request.access)

    def has_view_permission(self, request, obj=None):
        return request.access.is_superuser or request.access.has_any_scope(Scope.AUDIT_READ)
