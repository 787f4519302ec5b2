"""The admin site for platform administrators and senior management, behind the same choke point.

Every admin view runs inside `activate()` with the signed-in person's Access, and is rendered inside it,
so a non-superuser sees only their tenants' rows there too. Times are shown in the viewer's department's
time zone, named beside each time (config/formats).
"""

import zoneinfo
from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.second_factor import second_factor_satisfied
from apps.core.events import publish
from apps.tenancy import selectors
from apps.tenancy.access import Access, access_for
from apps.tenancy.models import Tenant
from apps.tenancy.roles import Scope
from apps.tenancy.views import render_in_context, request_access


def may_use_admin(access: Access) -> bool:
    return access.is_superuser or access.has_any_scope(Scope.ADMIN_SITE)


def display_time_zone(access: Access) -> zoneinfo.ZoneInfo:
    """The zone of the departments the person was made a member of, when they share one; otherwise (a
    platform administrator, members of departments in several zones) the platform's TIME_ZONE."""
    zones = set()
    if access.direct_roles:
        zones = set(Tenant.objects.filter(id__in=access.direct_roles).values_list("time_zone", flat=True))
    return zoneinfo.ZoneInfo(zones.pop() if len(zones) == 1 else settings.TIME_ZONE)


class VigilAdminAuthenticationForm(AdminAuthenticationForm):
    """Staff status is not how Vigil decides: the admin site is for superusers and members whose role
    (tenant admin, manager, auditor, executive) includes it."""

    def confirm_login_allowed(self, user):
        if not user.is_active or not may_use_admin(access_for(user)):
            raise ValidationError(
                self.error_messages["invalid_login"], code="invalid_login", params={"username": _("username")}
            )


class VigilAdminSite(admin.AdminSite):
    site_header = "Vigil administration"
    site_title = "Vigil"
    index_title = "Senior management and administration"
    # apps/web/apps.py puts a subclass behind the sign-in lockout (apps/web/lockout.py) in its place.
    login_form = VigilAdminAuthenticationForm

    def has_permission(self, request) -> bool:
        if not (request.user.is_active and request.user.is_authenticated):
            return False
        # The admin site needs a passed second factor of everyone (apps.tenancy.two_factor); the pages'
        # middleware sends a signed-in person there first (apps.web.middleware).
        return may_use_admin(request_access(request)) and second_factor_satisfied(request)

    def each_context(self, request):
        request_access(request)  # the login and logout pages are not wrapped by admin_view
        return super().each_context(request)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def scoped(request, *args, **kwargs):
            with timezone.override(display_time_zone(request_access(request))):
                return render_in_context(request, inner, *args, **kwargs)

        return scoped


class ScopedRelationsMixin:
    """Foreign keys to tenants and people offer (and accept) only those the signed-in person may see, as the
    API's related fields do: another tenant, or a person of another tenant, is not a valid choice whatever
    the form posts. Django's default is the related model's unscoped default manager."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            related = db_field.remote_field.model
            if related is Tenant:
                kwargs["queryset"] = selectors.tenant_list(access=request.access)
            elif related is get_user_model():
                kwargs["queryset"] = selectors.user_list(access=request.access)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class TenantAwareModelAdmin(ScopedRelationsMixin, admin.ModelAdmin):
    """Base of every registered admin. Visibility comes from the tenant context and the Access; writes
    that have a service go through it (`audited_by_services`); other writes are audited here."""

    audited_by_services = False
    write_scope: str | None = Scope.ADMIN_SITE_WRITE
    show_full_result_count = False
    # A URL typed without a scheme is https (Django 6's default; 5.2 still assumes http).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def get_object(self, request, object_id, from_field=None):
        # Another tenant's row answers 404 exactly like a missing one (design rule 1), rather than Django's
        # redirect to the index with a "doesn't exist" message.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with this id.")
        return obj

    def has_view_permission(self, request, obj=None) -> bool:
        return may_use_admin(request.access)

    def has_add_permission(self, request) -> bool:
        return request.access.is_superuser or (
            self.write_scope is not None and request.access.has_any_scope(self.write_scope)
        )

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and hasattr(obj, "tenant_id") and not request.access.is_superuser:
            return self.write_scope is not None and request.access.has_scope(obj.tenant_id, self.write_scope)
        return self.has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def _publish(self, request, obj, verb: str, message) -> None:
        if not self.audited_by_services:
            publish(
                verb=f"admin.{obj._meta.model_name}.{verb}",
                actor=request.user,
                target=obj,
                tenant_id=getattr(obj, "tenant_id", None),
                data={"message": str(message)},
            )

    def log_addition(self, request, obj, message):
        self._publish(request, obj, "created", message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._publish(request, obj, "updated", message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._publish(request, obj, "deleted", "")
        return super().log_deletions(request, queryset)


class ReadOnlyModelAdmin(TenantAwareModelAdmin):
    write_scope = None

    def changelist_view(self, request, extra_context=None):
        # Django titles a list its viewer may not change "Select … to view"; a record reads as its name.
        title = str(self.model._meta.verbose_name_plural)
        return super().changelist_view(
            request, {"title": title[:1].upper() + title[1:], **(extra_context or {})}
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyFormSet(BaseInlineFormSet):
    """Rows shown, never written: they neither hold up the parent's save (a post without their forms is
    fine) nor are saved with it."""

    def is_valid(self) -> bool:
        return True

    def save(self, commit=True) -> list:
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        return []


class ReadOnlyInline(admin.TabularInline):
    """A parent's rows of a child, for reading on the parent's page: they are written through their
    services elsewhere. Whoever sees the parent sees them, unless the parent's admin leaves the inline out."""

    formset = ReadOnlyFormSet
    template = "admin/edit_inline/read_only.html"
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    @admin.display(description="by")
    def by(self, row) -> str:
        """Who recorded a row that names its actor (`actor_repr`): list "by" among the fields."""
        return row.actor_repr

    def has_view_permission(self, request, obj=None) -> bool:
        return may_use_admin(request.access)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
