"""Reads of incidents. `incident_visible` is the one place that crosses the tenant filter, and only
through the grant join (design rule 1): granted outsiders see exactly what they were granted."""

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from apps.core.events import publish
from apps.response.choices import GrantPermission
from apps.response.models import (
    Incident,
    IncidentTeamMember,
    IncidentUserObjectPermission,
    ResponseAction,
    TimelineEntry,
)
from apps.tenancy.access import Access
from apps.tenancy.context import current_context
from apps.tenancy.roles import Scope

GRANT_CODENAMES = {GrantPermission.VIEW: "view_incident", GrantPermission.CHANGE: "change_incident"}


def _granted(access: Access, codenames) -> Exists:
    return Exists(
        IncidentUserObjectPermission.objects.filter(
            content_object=OuterRef("pk"),
            user_id=access.user_id,
            permission__codename__in=codenames,
            permission__content_type__app_label="response",
        )
    )


class _InGrantedIds(Func):
    """`incident.id = ANY(ARRAY(<the caller's granted incident ids>))`: the array is computed once (an
    InitPlan) and the condition is indexable, so `in_role OR granted` can still use the tenant-scoped and
    ordered indexes. A correlated EXISTS there turns every list into a scan of the whole table (issue 7)."""

    template = "(%(expressions)s)))"
    arg_joiner = " = ANY(ARRAY("
    output_field = BooleanField()


def _granted_ids(access: Access, codenames, field: str = "pk") -> _InGrantedIds:
    ids = IncidentUserObjectPermission.objects.filter(
        user_id=access.user_id,
        permission__codename__in=codenames,
        permission__content_type__app_label="response",
    ).values("content_object_id")
    return _InGrantedIds(field, Subquery(ids))


def incident_granted_condition(*, access: Access, field: str) -> Q:
    """`field` (an incident id column of another model) names an incident granted to the caller: the
    indexable form, for children's lists that must also reach granted incidents of other tenants."""
    return Q(_granted_ids(access, GRANT_CODENAMES.values(), field))


def incident_visible(*, access: Access) -> QuerySet[Incident]:
    context = current_context()
    tenant_ids = context.tenant_ids
    readable = tenant_ids & access.tenants_with(Scope.INCIDENT_READ)
    restricted_full = tenant_ids & access.tenants_with(Scope.INCIDENT_READ_RESTRICTED)
    restricted_summary = tenant_ids & access.tenants_with(Scope.INCIDENT_READ_RESTRICTED_SUMMARY)
    granted = Q(_granted_ids(access, GRANT_CODENAMES.values()))
    if context.narrowed:  # ?tenant=: granted incidents of other tenants stay out of the narrowed list
        granted &= Q(tenant_id__in=tenant_ids)
    in_role = Q(tenant_id__in=readable) & (
        Q(restricted=False) | Q(tenant_id__in=restricted_full | restricted_summary)
    )
    return (
        Incident.unscoped.filter(in_role | granted)
        .annotate(
            via_grant_only=Case(
                When(in_role, then=Value(False)), default=Value(True), output_field=BooleanField()
            ),
            summary_only=Case(
                When(
                    Q(restricted=True) & ~Q(tenant_id__in=restricted_full) & ~granted,
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            ),
            granted_change=_granted(access, [GRANT_CODENAMES[GrantPermission.CHANGE]]),
        )
        .select_related("tenant", "owner", "category")
        .prefetch_related(
            Prefetch("team_members", queryset=IncidentTeamMember.unscoped.order_by("created_at"))
        )
    )


def incident_get(*, access: Access, actor, incident_id) -> Incident:
    """One visible incident (404 otherwise); an outsider's read through a grant is put on record."""
    incident = incident_visible(access=access).get(pk=incident_id)
    if incident.via_grant_only:
        publish(
            verb="incident.accessed_via_grant",
            actor=actor,
            target=incident,
            tenant_id=incident.tenant_id,
            incident_id=incident.pk,
        )
    return incident


def incident_grant_list(*, incident: Incident) -> QuerySet[IncidentUserObjectPermission]:
    # permission__content_type: the serializer's ChoiceField renders the Permission via str(), which reads
    # its content type; without the join that is one query per grant.
    return IncidentUserObjectPermission.objects.filter(content_object=incident).select_related(
        "user", "permission__content_type", "granted_by"
    )


# An incident's children are read through the incident, which incident_visible already let through.
def timeline_list(*, incident: Incident) -> QuerySet[TimelineEntry]:
    return TimelineEntry.unscoped.filter(incident=incident).select_related("actor")


def action_list(*, incident: Incident) -> QuerySet[ResponseAction]:
    return ResponseAction.unscoped.filter(incident=incident).select_related("assignee", "created_by")
