"""The admin site's view of notifications: obligations, authorities, training and webhooks.

Obligations, assignments and webhooks are read-only here: they change through their services (submit, waive,
anchor; complete; the webhooks API) only, and a webhook's signing secret is never shown. Tenant admins manage
their authorities (ISO 27001 A.5.5) and courses (A.6.3) here, through the same services as the API."""

from django.contrib import admin

from apps.notifications import selectors, services, training, webhooks
from apps.notifications.models import Authority, Course, Obligation, TrainingAssignment, WebhookSubscription
from apps.tenancy.admin_site import ReadOnlyModelAdmin, TenantAwareModelAdmin
from apps.tenancy.roles import Scope


class ServiceWrittenAdmin(TenantAwareModelAdmin):
    """Create and change through the app's services (which check the tenant-admin scope and audit);
    never delete from the admin (obligations and assignments refer to these rows)."""

    audited_by_services = True
    write_scope = Scope.TENANT_ADMIN
    create_service = update_service = None
    target_name = ""

    def get_readonly_fields(self, request, obj=None):
        return ["tenant"] if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        if change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            type(self).update_service(
                actor=request.user, access=request.access, **{self.target_name: obj}, **fields
            )
            return
        fields = {name: form.cleaned_data[name] for name in self.fields if name != "tenant"}
        created = type(self).create_service(
            actor=request.user, access=request.access, tenant=form.cleaned_data["tenant"], **fields
        )
        obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db


@admin.register(Obligation)
class ObligationAdmin(ReadOnlyModelAdmin):
    list_display = ["notice", "regime", "tenant", "incident", "period_year", "status", "due_at"]
    list_filter = ["status", "regime"]
    search_fields = ["notice", "reference"]
    list_select_related = ["tenant", "incident"]
    exclude = ["copy_storage_key"]

    def get_queryset(self, request):
        return selectors.obligation_list(access=request.access).select_related("tenant")


@admin.register(Authority)
class AuthorityAdmin(ServiceWrittenAdmin):
    fields = ["tenant", *services.AUTHORITY_FIELDS]
    create_service, update_service, target_name = (
        services.authority_create,
        services.authority_update,
        "authority",
    )
    list_display = ["name", "kind", "jurisdiction", "tenant", "last_verified_at"]
    list_filter = ["kind"]
    search_fields = ["name", "jurisdiction"]
    list_select_related = ["tenant"]

    def get_queryset(self, request):
        return selectors.authority_list(access=request.access).select_related("tenant")


@admin.register(Course)
class CourseAdmin(ServiceWrittenAdmin):
    fields = ["tenant", *training.COURSE_FIELDS]
    create_service, update_service, target_name = training.course_create, training.course_update, "course"
    list_display = ["name", "tenant", "mandatory", "recurrence_months", "due_within_days"]
    list_select_related = ["tenant"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return training.course_list(access=request.access).select_related("tenant")


@admin.register(TrainingAssignment)
class TrainingAssignmentAdmin(ReadOnlyModelAdmin):
    list_display = ["course", "user", "tenant", "due_at", "completed_at"]
    list_select_related = ["course", "user", "tenant"]

    def get_queryset(self, request):
        return training.assignment_list(access=request.access).select_related("course", "user", "tenant")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyModelAdmin):
    list_display = ["url", "tenant", "active", "created_at"]
    list_filter = ["active"]
    list_select_related = ["tenant"]
    exclude = ["secret"]

    def get_queryset(self, request):
        return webhooks.webhook_list(access=request.access).select_related("tenant")
