from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect

from apps.tenancy import email_verification, membership_requests, selectors, services
from apps.tenancy.admin_site import ReadOnlyModelAdmin, ScopedRelationsMixin, TenantAwareModelAdmin
from apps.tenancy.models import ApiToken, Membership, MembershipRequest, MembershipRequestStatus, Tenant
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
                if isinstance(created, MembershipRequest):
                    tell_pending(request, created)
                else:
                    formset.new_objects.append(created)
            else:
                updated = services.membership_update(
                    actor=request.user, access=request.access, membership=membership, role=membership.role
                )
                if isinstance(updated, MembershipRequest):
                    tell_pending(request, updated)
                else:
                    formset.changed_objects.append((updated, inline_form.changed_data))


def tell_pending(request, pending: MembershipRequest) -> None:
    messages.warning(
        request,
        f"Your own access changes only when another administrator of {pending.tenant} (or a platform "
        f"administrator) approves: the request to become {pending.get_role_display()} waits under "
        "Membership requests.",
    )


@admin.register(MembershipRequest)
class MembershipRequestAdmin(ReadOnlyModelAdmin):
    """Four-eyes requests (apps/tenancy/four_eyes.py): approved or refused by a second administrator."""

    list_display = [
        "user",
        "tenant",
        "previous_role",
        "role",
        "status",
        "requested_by",
        "decided_by",
        "created_at",
    ]
    list_filter = ["status", "role"]
    list_select_related = ["user", "tenant", "requested_by", "decided_by"]
    actions = ["approve", "refuse"]

    def get_queryset(self, request):
        return membership_requests.membership_request_list(access=request.access)

    def _decide(self, request, queryset, decide, done: str) -> None:
        for pending in queryset.filter(status=MembershipRequestStatus.PENDING):
            try:
                with transaction.atomic():
                    decide(actor=request.user, access=request.access, request=pending)
            except (PermissionDenied, ValidationError) as exc:
                messages.error(request, f"{pending}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
            else:
                messages.success(request, f"{pending.user}: {done}.")

    @admin.action(description="Approve the selected requests")
    def approve(self, request, queryset):
        self._decide(request, queryset, membership_requests.membership_request_approve, "approved")

    @admin.action(description="Refuse the selected requests")
    def refuse(self, request, queryset):
        self._decide(request, queryset, membership_requests.membership_request_refuse, "refused")


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
            result = services.membership_update(
                actor=request.user, access=request.access, membership=obj, role=obj.role
            )
        else:
            result = services.membership_create(
                actor=request.user, access=request.access, user=obj.user, tenant=obj.tenant, role=obj.role
            )
        if isinstance(result, MembershipRequest):
            obj._pending_request = result
            tell_pending(request, result)
        elif not change:
            obj.pk, obj._state.adding, obj._state.db = result.pk, False, result._state.db

    def log_addition(self, request, obj, message):
        return None if hasattr(obj, "_pending_request") else super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        return None if hasattr(obj, "_pending_request") else super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if hasattr(obj, "_pending_request"):
            return redirect("admin:tenancy_membershiprequest_changelist")
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if hasattr(obj, "_pending_request"):
            return redirect("admin:tenancy_membershiprequest_changelist")
        return super().response_change(request, obj)

    def delete_model(self, request, obj):
        services.membership_delete(actor=request.user, access=request.access, membership=obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            self.delete_model(request, membership)


class UserChangeForm(DjangoUserChangeForm):
    def clean_email(self):
        # Another active person's address is refused on the form (a field error), as the API refuses it.
        email = self.cleaned_data.get("email") or ""
        try:
            email_verification.email_check_free(email=email, user=self.instance)
        except ValidationError as refused:
            raise ValidationError(refused.message_dict["email"]) from None
        return email


@admin.register(User)
class UserAdmin(TenantAwareModelAdmin, DjangoUserAdmin):
    form = UserChangeForm
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

    def get_readonly_fields(self, request, obj=None):
        # One's own e-mail changes on the Account page, with the current password.
        own = obj is not None and obj.pk == request.user.pk
        return [*super().get_readonly_fields(request, obj), *(["email"] if own else [])]

    def user_change_password(self, request, id, form_url=""):
        # One's own password: Django's change form, which asks for the current one.
        if str(id) == str(request.user.pk):
            return redirect("admin:password_change")
        return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        # A new e-mail address counts once confirmed through the link sent to it
        # (apps/tenancy/email_verification.py); a password change or deactivation here ends the person's
        # sessions and tokens like anywhere else (accounts.User.credentials_changed_at).
        new_email = obj.email if change and "email" in form.changed_data else None
        if new_email is not None:
            obj.email = form.initial.get("email") or ""
        super().save_model(request, obj, form, change)
        if new_email is not None and new_email.lower() != obj.email.lower():
            email_verification.user_email_change_request(actor=request.user, user=obj, email=new_email)
            messages.info(request, f"A confirmation link was sent to {new_email}; it counts once opened.")
        elif new_email is not None:
            obj.email = new_email
            obj.save(update_fields=["email"])


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
