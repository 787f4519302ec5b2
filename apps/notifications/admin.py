"""The admin site's view of notifications: obligations, authorities, training, webhooks and the outbox.

Obligations, assignments and webhooks are read-only here: they change through their services (submit, waive,
anchor; complete; the webhooks API) only, and a webhook's signing secret is never shown. Tenant admins manage
their authorities (ISO 27001 A.5.5) and courses (A.6.3) here, through the same services as the API."""

from django.contrib import admin
from django.db.models import Q

from apps.notifications import selectors, services, training, webhooks
from apps.notifications.choices import OutboxStatus
from apps.notifications.models import (
    Authority,
    Course,
    Obligation,
    OutboxMessage,
    TrainingAssignment,
    WebhookSubscription,
)
from apps.response.admin import IncidentAdmin
from apps.tenancy.admin_site import ReadOnlyInline, ReadOnlyModelAdmin, TenantAwareModelAdmin
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


class IncidentObligationInline(ReadOnlyInline):
    """The incident's own obligations on its admin page (annual ones that collect it are on their list)."""

    model = Obligation
    fields = ["notice", "regime", "recipient", "authority", "due_at", "status", "submitted_at", "reference"]

    def get_queryset(self, request):
        return selectors.obligation_list(access=request.access).select_related("authority").order_by("due_at")


IncidentAdmin.inlines = [*IncidentAdmin.inlines, IncidentObligationInline]


class DeliveryFilter(admin.SimpleListFilter):
    """Where a message stands: the failing and given-up ones are what an administrator looks for."""

    title = "delivery"
    parameter_name = "delivery"
    CONDITIONS = {
        "problem": selectors.OUTBOX_DEAD | selectors.OUTBOX_FAILING,
        "failing": selectors.OUTBOX_FAILING,
        "dead": selectors.OUTBOX_DEAD,
        "waiting": Q(status=OutboxStatus.PENDING, attempts=0),
        "delivered": Q(status=OutboxStatus.DELIVERED),
    }

    def lookups(self, request, model_admin):
        return [
            ("problem", "failing or given up"),
            ("failing", "failing, will be retried"),
            ("dead", "given up"),
            ("waiting", "not tried yet"),
            ("delivered", "delivered"),
        ]

    def queryset(self, request, queryset):
        condition = self.CONDITIONS.get(self.value())
        return queryset if condition is None else queryset.filter(condition)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyModelAdmin):
    """Every e-mail and webhook call Vigil sends, with its attempts and last error: the place to see that
    mail does not arrive (e.g. a TLS mismatch with the SMTP server) without reading the worker's log.
    Platform administrators only: the outbox holds every tenant's messages."""

    list_display = [
        "created_at",
        "channel",
        "recipient",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "error",
    ]
    list_filter = [DeliveryFilter, "channel"]
    search_fields = ["recipient", "subject", "last_error"]
    ordering = ["-created_at"]
    exclude = ["payload"]

    @admin.display(description="last error")
    def error(self, message: OutboxMessage) -> str:
        return message.last_error[:200]

    def has_view_permission(self, request, obj=None) -> bool:
        return request.access.is_superuser
