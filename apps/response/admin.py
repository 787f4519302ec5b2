from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404

from apps.response import selectors, services
from apps.response.choices import GrantPermission
from apps.response.models import Incident, IncidentUserObjectPermission, ResponseAction, TimelineEntry
from apps.response.selectors import SUMMARY_FIELDS
from apps.tenancy.admin_site import ReadOnlyInline, ReadOnlyModelAdmin, ScopedRelationsMixin
from apps.tenancy.roles import Scope

# The full-text index column is the database's, not something to read.
_INCIDENT_FIELDS = [f.name for f in Incident._meta.fields if f.name != "search_vector"]


class IncidentGrantInline(ScopedRelationsMixin, admin.TabularInline):
    """Need-to-know grants of one incident, managed here rather than on guardian's generic pages."""

    model = IncidentUserObjectPermission
    verbose_name, verbose_name_plural = "need-to-know grant", "need-to-know grants"
    fk_name = "content_object"
    extra = 0
    fields = ["user", "permission", "granted_by", "created_at"]
    readonly_fields = ["granted_by", "created_at"]
    autocomplete_fields = ["user"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "permission":
            kwargs["queryset"] = db_field.related_model.objects.filter(
                content_type__app_label="response", codename__in=selectors.GRANT_CODENAMES.values()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _may_share(self, request, obj) -> bool:
        return obj is not None and request.access.has_scope(obj.tenant_id, Scope.INCIDENT_SHARE)

    def has_view_permission(self, request, obj=None):
        return self._may_share(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._may_share(request, obj)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self._may_share(request, obj)


# An incident's children are read through the incident, which the admin's get_object found visible (the
# inline formset filters by it); `unscoped`, so that an incident granted from another tenant shows them too.
class TimelineInline(ReadOnlyInline):
    model = TimelineEntry
    fields = ["at", "kind", "summary", "by", "direction", "counterpart", "channel"]

    def get_queryset(self, request):
        return TimelineEntry.unscoped.order_by("at", "recorded_at")


class ResponseActionInline(ReadOnlyInline):
    model = ResponseAction
    fields = ["title", "status", "assignee", "due_at", "completed_at", "created_by"]

    def get_queryset(self, request):
        return ResponseAction.unscoped.select_related("assignee", "created_by").order_by("created_at")


_PERMISSION_BY_CODENAME = {codename: name for name, codename in selectors.GRANT_CODENAMES.items()}


@admin.register(Incident)
class IncidentAdmin(ReadOnlyModelAdmin):
    list_display = ["reference", "title", "tenant", "status", "severity", "restricted", "declared"]
    list_filter = ["status", "severity", "restricted"]
    search_fields = ["reference", "title"]
    list_select_related = ["tenant", "owner"]
    # apps/notifications/admin.py adds the obligations' inline (notifications sits above response).
    inlines = [IncidentGrantInline, TimelineInline, ResponseActionInline]

    def get_queryset(self, request):
        return selectors.incident_visible(access=request.access)

    def has_change_permission(self, request, obj=None):
        # The incident's own fields change through the lifecycle services; only its grants are edited here.
        return obj is not None and request.access.has_scope(obj.tenant_id, Scope.INCIDENT_SHARE)

    def get_fields(self, request, obj=None):
        # A need-to-know incident seen as a summary (an executive's) shows the summary's fields only.
        if obj is not None and obj.summary_only:
            return [name for name in _INCIDENT_FIELDS if name in SUMMARY_FIELDS]
        return _INCIDENT_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_inlines(self, request, obj):
        return [] if obj is not None and obj.summary_only else self.inlines

    def history_view(self, request, object_id, extra_context=None):
        # The change history names the grants given and revoked here: a child of the incident, seen only
        # with the incident in full (Need.FULL); a summary's answers 404 like an unknown incident.
        if self.get_object(request, unquote(object_id)).summary_only:
            raise Http404("No incident with this id.")
        return super().history_view(request, object_id, extra_context)

    @admin.display(description="declared at", ordering="declared_at")
    def declared(self, incident: Incident):
        return self.get_empty_value_display() if incident.summary_only else incident.declared_at

    def save_model(self, request, obj, form, change):
        """Nothing of the incident itself is saved here."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not IncidentUserObjectPermission:
            super().save_formset(request, form, formset, change)  # the read-only inlines: nothing to save
            return
        # Instead of formset.save(): grants go through the services; the lists formset.save() would fill
        # are set for the admin's change message.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for deleted in formset.deleted_forms:
            if not deleted.instance._state.adding:
                services.incident_revoke(actor=request.user, access=request.access, grant=deleted.instance)
                formset.deleted_objects.append(deleted.instance)
        for inline_form in formset.forms:
            if inline_form in formset.deleted_forms or not inline_form.has_changed():
                continue
            if inline_form.instance._state.adding:
                grant = services.incident_grant(
                    actor=request.user,
                    access=request.access,
                    incident=form.instance,
                    user=inline_form.cleaned_data["user"],
                    permission=_PERMISSION_BY_CODENAME.get(
                        inline_form.cleaned_data["permission"].codename, GrantPermission.VIEW
                    ),
                )
                formset.new_objects.append(grant)
