from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.tenancy import selectors, services
from apps.tenancy.admin_site import ReadOnlyModelAdmin, ScopedRelationsMixin, TenantAwareModelAdmin
from apps.tenancy.models import ApiToken, Membership, Tenant
from apps.tenancy.roles import ROLES_ASSIGNABLE_BY_TENANT_ADMIN, RoleId, Scope

User = get_user_model()


class MembershipInline(ScopedRelationsMixin, admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "source", "created_at"]
    readonly_fields = ["source", "created_at"]
    autocomplete_fields = ["user"]

    def get_queryset(self, request):
        return Membership.objects.select_related("user")

    def has_add_permission(self, request, obj=None):
        return obj is not None and request.access.has_scope(obj.pk, Scope.MEMBER_ADMIN)

    def has_change_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)

    def has_view_permission(self, request, obj=None):
        return obj is not None and request.access.has_scope(obj.pk, Scope.MEMBER_READ)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not request.access.is_superuser:
            kwargs["choices"] = [(r.value, r.label) for r in RoleId if r in ROLES_ASSIGNABLE_BY_TENANT_ADMIN]
        return super().formfield_for_choice_field(db_field, request, **kwargs)


@admin.register(Tenant)
class TenantAdmin(TenantAwareModelAdmin):
    audited_by_services = True
    write_scope = Scope.TENANT_ADMIN
    list_display = ["name", "slug", "reference_prefix", "parent", "time_zone", "country"]
    search_fields = ["name", "slug", "reference_prefix"]
    list_select_related = ["parent"]
    fields = ["name", "slug", "parent", "time_zone", "country", "reference_prefix", "settings"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return selectors.tenant_list(access=request.access)

    def has_add_permission(self, request):
        return request.access.is_superuser

    def has_change_permission(self, request, obj=None):
        # A tenant admin edits its tenants (and, through the inline, their members); the base class would
        # ask has_add_permission, which is for platform administrators only.
        if request.access.is_superuser:
            return True
        if obj is None:
            return request.access.has_any_scope(Scope.TENANT_ADMIN)
        return request.access.has_scope(obj.pk, Scope.TENANT_ADMIN)

    def has_delete_permission(self, request, obj=None):
        return False  # tenants carry their audit chain; they are never deleted

    def get_readonly_fields(self, request, obj=None):
        return [] if request.access.is_superuser else ["parent", "slug", "reference_prefix"]

    def save_model(self, request, obj, form, change):
        if change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            services.tenant_update(actor=request.user, access=request.access, tenant=obj, **fields)
            return
        created = services.tenant_create(
            actor=request.user,
            access=request.access,
            **{name: form.cleaned_data[name] for name in self.fields},
        )
        obj.pk, obj.path, obj._state.adding, obj._state.db = (
            created.pk,
            created.path,
            False,
            created._state.db,
        )

    def save_formset(self, request, form, formset, change):
        # Instead of formset.save(): every row goes through the services. The lists formset.save() would
        # have filled are set too, for the admin's change message.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for deleted in formset.deleted_forms:
            if not deleted.instance._state.adding:  # a new row ticked "delete" was never saved
                services.membership_delete(
                    actor=request.user, access=request.access, membership=deleted.instance
                )
                formset.deleted_objects.append(deleted.instance)
        for inline_form in formset.forms:
            if inline_form in formset.deleted_forms or not inline_form.has_changed():
                continue
            membership = inline_form.instance
            if membership._state.adding:
                created = services.membership_create(
                    actor=request.user,
                    access=request.access,
                    user=inline_form.cleaned_data["user"],
                    tenant=form.instance,
                    role=inline_form.cleaned_data["role"],
                )
                formset.new_objects.append(created)
            else:
                updated = services.membership_update(
                    actor=request.user, access=request.access, membership=membership, role=membership.role
                )
                formset.changed_objects.append((updated, inline_form.changed_data))


@admin.register(Membership)
class MembershipAdmin(TenantAwareModelAdmin):
    audited_by_services = True
    write_scope = Scope.MEMBER_ADMIN
    list_display = ["user", "tenant", "role", "source", "created_at"]
    list_filter = ["role", "source"]
    search_fields = ["user__username", "user__email", "tenant__name"]
    list_select_related = ["user", "tenant"]
    autocomplete_fields = ["user", "tenant"]

    def get_queryset(self, request):
        return selectors.membership_list(access=request.access)

    def get_readonly_fields(self, request, obj=None):
        # `source`: single sign-on manages its own memberships (apps/tenancy/sso.py); by hand is "manual".
        return ["user", "tenant", "source"] if obj is not None else ["source"]

    def save_model(self, request, obj, form, change):
        if change:
            services.membership_update(
                actor=request.user, access=request.access, membership=obj, role=obj.role
            )
            return
        created = services.membership_create(
            actor=request.user, access=request.access, user=obj.user, tenant=obj.tenant, role=obj.role
        )
        obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db

    def delete_model(self, request, obj):
        services.membership_delete(actor=request.user, access=request.access, membership=obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            self.delete_model(request, membership)


@admin.register(User)
class UserAdmin(TenantAwareModelAdmin, DjangoUserAdmin):
    audited_by_services = False  # Django's user forms handle passwords; their writes are audited generically
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_service_account"]
    list_filter = ["is_active", "is_superuser", "is_service_account"]
    search_fields = ["username", "email", "first_name", "last_name"]

    def get_queryset(self, request):
        return selectors.user_list(access=request.access)

    def has_add_permission(self, request):
        return request.access.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.access.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False  # people are deactivated, never deleted: the audit trail names them


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "key_prefix", "user", "tenant", "role", "created_at", "expires_at", "revoked_at"]
    list_select_related = ["user", "tenant"]
    actions = ["revoke"]

    def get_queryset(self, request):
        qs = ApiToken.objects.select_related("user", "tenant")
        return qs if request.access.is_superuser else qs.none()

    def has_view_permission(self, request, obj=None):
        return request.access.is_superuser

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            services.token_revoke(actor=request.user, token=token)
