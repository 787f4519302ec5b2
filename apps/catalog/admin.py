"""Regimes and their steps in the admin site. Shipped rows (loaded from deadlines.csv by migration) are
read-only; a tenant admin adds the tenant's own regimes (a customer contract, an internal policy) with
their steps, and renames or switches them on and off, through the catalog services."""

from django.contrib import admin
from django.core.exceptions import ValidationError

from apps.catalog import selectors, services
from apps.catalog.models import Regime, RegimeStep
from apps.tenancy.admin_site import ReadOnlyModelAdmin, ScopedRelationsMixin, TenantAwareModelAdmin
from apps.tenancy.roles import Scope

STEP_FORM_FIELDS = [
    "code",
    "name",
    "recipient",
    "duration",
    "unit",
    "anchor_source",
    "notice",
    "scope",
    "citation",
]


class RegimeStepInline(ScopedRelationsMixin, admin.TabularInline):
    """Steps are given when a tenant's regime is created, and fixed after that (obligations refer to them)."""

    model = RegimeStep
    fields = STEP_FORM_FIELDS
    extra = 1
    can_delete = False

    def get_queryset(self, request):
        return selectors.regime_step_visible()

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is None else 0

    def get_readonly_fields(self, request, obj=None):
        return STEP_FORM_FIELDS if obj is not None else []

    def has_add_permission(self, request, obj=None) -> bool:
        return obj is None and request.access.has_any_scope(Scope.TENANT_ADMIN)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _check_new_code(form):
    """The service's code rule, as a form error before anything is saved."""
    cleaned = form.cleaned_data
    if cleaned.get("tenant") and cleaned.get("code"):
        try:
            services.regime_code_check(tenant=cleaned["tenant"], code=cleaned["code"])
        except ValidationError as exc:
            form.add_error(None, exc)
    return cleaned


@admin.register(Regime)
class RegimeAdmin(TenantAwareModelAdmin):
    audited_by_services = True
    write_scope = Scope.TENANT_ADMIN
    list_display = ["code", "name", "jurisdiction", "tenant", "enabled", "ships_enabled"]
    list_filter = ["enabled", "jurisdiction"]
    search_fields = ["code", "name"]
    list_select_related = ["tenant"]
    fields = ["tenant", "code", "name", "description", "jurisdiction", "enabled"]
    inlines = [RegimeStepInline]

    def get_queryset(self, request):
        return selectors.regime_visible()

    def get_readonly_fields(self, request, obj=None):
        return ["tenant", "code"] if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            form.base_fields["tenant"].required = True  # platform regimes ship by migration only
            form.clean = _check_new_code
        return form

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.tenant_id is None:
            return False  # shipped: read-only for everyone
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # incidents name regimes by code; switch one off instead

    def save_model(self, request, obj, form, change):
        if change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            services.regime_update(actor=request.user, access=request.access, regime=obj, **fields)
        # A new regime is created with its steps in save_related, where the step rows are known.

    def save_related(self, request, form, formsets, change):
        if change:
            return
        steps = [
            {name: row.cleaned_data[name] for name in STEP_FORM_FIELDS if name in row.cleaned_data}
            for formset in formsets
            for row in formset.forms
            if row.has_changed() and not row.cleaned_data.get("DELETE")
        ]
        created = services.regime_create(
            actor=request.user,
            access=request.access,
            steps=steps,
            **{name: form.cleaned_data[name] for name in self.fields},
        )
        form.instance.pk, form.instance._state.adding = created.pk, False
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


@admin.register(RegimeStep)
class RegimeStepAdmin(ReadOnlyModelAdmin):
    list_display = ["code", "name", "regime", "scope", "duration", "unit", "anchor_source", "notice"]
    list_filter = ["scope", "unit"]
    search_fields = ["code", "name", "citation"]
    list_select_related = ["regime"]

    def get_queryset(self, request):
        return selectors.regime_step_visible().select_related("regime")
