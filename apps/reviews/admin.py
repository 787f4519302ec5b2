from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect

from apps.core.errors import Conflict
from apps.response.selectors import Need, incident_visible
from apps.reviews import selectors, services
from apps.reviews.choices import ReviewStatus
from apps.reviews.models import CorrectiveAction, Review
from apps.tenancy.admin_site import ReadOnlyInline, TenantAwareModelAdmin
from apps.tenancy.roles import Scope


class ServiceErrorsAsMessagesMixin:
    """A rule the service refuses (a frozen review, a disallowed status) is shown on the form page, not
    answered with a server error; the admin's transaction has rolled back by then."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, Conflict) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, text, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class CorrectiveActionInline(ReadOnlyInline):
    """The review's actions, for reading; they are written on their own page (through the services)."""

    model = CorrectiveAction
    fk_name = "review"
    fields = ["title", "kind", "owner", "due_at", "status", "verified_at"]
    show_change_link = True

    def get_queryset(self, request):
        return CorrectiveAction.objects.select_related("owner").order_by("created_at")


@admin.register(Review)
class ReviewAdmin(ServiceErrorsAsMessagesMixin, TenantAwareModelAdmin):
    audited_by_services = True
    write_scope = Scope.REVIEW_WRITE
    list_display = ["incident", "tenant", "status", "approved_by", "completed_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["incident__reference", "incident__title"]
    list_select_related = ["incident", "tenant", "approved_by"]
    fields = ["incident", *services.REVIEW_TEXT_FIELDS]
    inlines = [CorrectiveActionInline]
    actions = ["complete"]

    def get_queryset(self, request):
        return selectors.review_list(access=request.access).select_related("tenant", "approved_by")

    def has_delete_permission(self, request, obj=None):
        return False  # reviews are records of the incident's handling

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != ReviewStatus.DRAFT:
            return False  # a completed review is frozen
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return ["incident"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "incident":
            kwargs["queryset"] = incident_visible(access=request.access, need=Need.FULL)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        texts = {
            name: form.cleaned_data[name] for name in services.REVIEW_TEXT_FIELDS if name in form.changed_data
        }
        if change:
            services.review_update(actor=request.user, access=request.access, review=obj, **texts)
            return
        created = services.review_create(
            actor=request.user, access=request.access, incident=form.cleaned_data["incident"], **texts
        )
        obj.pk = created.pk

    @admin.action(description="Complete (approve) the selected reviews")
    def complete(self, request, queryset):
        for review in queryset:
            try:
                services.review_complete(actor=request.user, access=request.access, review=review)
            except (Conflict, PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"{review.incident}: {exc}", messages.ERROR)


@admin.register(CorrectiveAction)
class CorrectiveActionAdmin(ServiceErrorsAsMessagesMixin, TenantAwareModelAdmin):
    audited_by_services = True
    write_scope = Scope.REVIEW_WRITE
    list_display = ["title", "tenant", "kind", "owner", "due_at", "status", "verified_at"]
    list_filter = ["status", "kind"]
    search_fields = ["title"]
    list_select_related = ["tenant", "owner", "review__incident"]
    fields = ["title", "description", "kind", "owner", "due_at", "status", "verification_note"]

    def get_queryset(self, request):
        return selectors.corrective_action_list(access=request.access).select_related("tenant", "owner")

    def has_add_permission(self, request):
        return False  # added under their review, through the API or the web app (they need a review)

    def has_delete_permission(self, request, obj=None):
        return False  # cancelled, never deleted

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        services.corrective_action_update(actor=request.user, access=request.access, action=obj, **fields)
