"""The admin site's view of notifications: obligations, authorities, training and webhooks.

Obligations are read-only here: they change through their services (submit, waive, anchor) only. The other
models are read-only too (their writes have services with their own rules and audit); a webhook's signing
secret is never shown."""

from django.contrib import admin

from apps.notifications import selectors, training, webhooks
from apps.notifications.models import Authority, Course, Obligation, TrainingAssignment, WebhookSubscription
from apps.tenancy.admin_site import ReadOnlyModelAdmin


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
class AuthorityAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "kind", "jurisdiction", "tenant", "last_verified_at"]
    list_filter = ["kind"]
    search_fields = ["name", "jurisdiction"]
    list_select_related = ["tenant"]

    def get_queryset(self, request):
        return selectors.authority_list(access=request.access).select_related("tenant")


@admin.register(Course)
class CourseAdmin(ReadOnlyModelAdmin):
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
