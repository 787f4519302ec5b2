"""Regimes and their steps in the admin site: read-only (shipped rows come from deadlines.csv by migration;
a tenant's own regimes are written through the catalog API and its services)."""

from django.contrib import admin

from apps.catalog import selectors
from apps.catalog.models import Regime, RegimeStep
from apps.tenancy.admin_site import ReadOnlyModelAdmin


class RegimeStepInline(admin.TabularInline):
    model = RegimeStep
    fields = ["code", "name", "recipient", "duration", "unit", "anchor_source", "notice", "scope", "citation"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return selectors.regime_step_visible()

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Regime)
class RegimeAdmin(ReadOnlyModelAdmin):
    list_display = ["code", "name", "jurisdiction", "tenant", "enabled", "ships_enabled"]
    list_filter = ["enabled", "jurisdiction"]
    search_fields = ["code", "name"]
    list_select_related = ["tenant"]
    inlines = [RegimeStepInline]

    def get_queryset(self, request):
        return selectors.regime_visible()


@admin.register(RegimeStep)
class RegimeStepAdmin(ReadOnlyModelAdmin):
    list_display = ["code", "name", "regime", "scope", "duration", "unit", "anchor_source", "notice"]
    list_filter = ["scope", "unit"]
    search_fields = ["code", "name", "citation"]
    list_select_related = ["regime"]

    def get_queryset(self, request):
        return selectors.regime_step_visible().select_related("regime")
