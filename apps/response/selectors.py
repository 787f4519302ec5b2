"""Reads of incidents. `_visibility` is the one rule of who sees an incident, and how much of it, and the
only place that crosses the tenant filter, through the grant join (design rule 1): granted outsiders see
exactly what they were granted. It has two levels (`Need`): a need-to-know incident read by a role that
reaches only its summary (an executive's) is seen as SUMMARY_FIELDS and nothing else: none of its children
(timeline, actions, evidence, custody, obligations, grants, review, audit rows …), and no filter or search
on what the summary hides matches it. incident_visible, incident_list, incident_get,
incident_visible_condition (children's lists), incident_search_condition and incident_hidden_condition
apply it."""

import enum
from dataclasses import dataclass

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import SearchQuery, SearchVectorExact
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from apps.core.conditions import checked_per_row
from apps.core.events import publish
from apps.response.choices import GrantPermission
from apps.response.models import (
    SUMMARY_SEARCH_VECTOR,
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

# What a summary-only viewer sees of a need-to-know incident: that it exists, and how bad it is.
SUMMARY_FIELDS = frozenset({"id", "tenant", "reference", "title", "severity", "status", "restricted"})
SEARCH_CONFIG = "english"


class Need(enum.Enum):
    """How much of an incident a read needs."""

    SUMMARY = "summary"  # that it exists: SUMMARY_FIELDS (the incident list, its detail, dashboards' counts)
    FULL = "full"  # everything else: its other fields and every row that belongs to it


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


def _granted_ids(access: Access, codenames, incident: str = "pk") -> _InGrantedIds:
    ids = IncidentUserObjectPermission.objects.filter(
        user_id=access.user_id,
        permission__codename__in=codenames,
        permission__content_type__app_label="response",
    ).values("content_object_id")
    return _InGrantedIds(incident, Subquery(ids))


def incidents_granted_elsewhere(*, access: Access) -> list:
    """Ids of the incidents granted to the caller outside the context's tenants (usually none: a grant
    mostly opens a restricted incident of one's own tenant). The incident and evidence lists add them as a
    second arm only when there are some: a list filtered by tenant alone walks its ordered index, one with
    `tenant OR incident` must read and sort every row of the tenant (issue 7)."""
    context = current_context()
    if context.narrowed:  # ?tenant=: as in incident_visible, other tenants' grants stay out
        return []
    return list(
        Incident.unscoped.filter(Q(_granted_ids(access, GRANT_CODENAMES.values())))
        .exclude(tenant_id__in=context.tenant_ids)
        .values_list("id", flat=True)
    )


@dataclass(frozen=True)
class _Visibility:
    """The rule of who sees an incident, as conditions on the incident's columns. `incident` and
    `restricted` name them from the model queried: the incident itself, or a child linked to it by a
    same-tenant key (so the child's own tenant_id is the incident's)."""

    in_role: Q  # the caller's roles in the incident's tenant show it (in full or as a summary)
    granted: Q  # a django-guardian grant shows it in full
    summary_only: Q  # shown, but as a summary (need-to-know incident, summary-only role)
    full: Q  # shown in full


def _visibility(access: Access, *, incident: str = "pk", restricted: str = "restricted") -> _Visibility:
    context = current_context()
    tenant_ids = context.tenant_ids
    readable = tenant_ids & access.tenants_with(Scope.INCIDENT_READ)
    restricted_full = tenant_ids & access.tenants_with(Scope.INCIDENT_READ_RESTRICTED)
    restricted_summary = tenant_ids & access.tenants_with(Scope.INCIDENT_READ_RESTRICTED_SUMMARY)
    granted = Q(_granted_ids(access, GRANT_CODENAMES.values(), incident))
    if context.narrowed:  # ?tenant=: granted incidents of other tenants stay out of the narrowed list
        granted &= Q(tenant_id__in=tenant_ids)
    open_or_cleared = Q(**{restricted: False}) | Q(tenant_id__in=restricted_full)
    return _Visibility(
        in_role=Q(tenant_id__in=readable) & (open_or_cleared | Q(tenant_id__in=restricted_summary)),
        granted=granted,
        summary_only=Q(**{restricted: True}) & ~Q(tenant_id__in=restricted_full) & ~granted,
        full=granted | Q(tenant_id__in=readable) & open_or_cleared,
    )


def _condition(rule: _Visibility, need: Need) -> Q:
    return rule.full if need is Need.FULL else rule.in_role | rule.granted


def incident_visible_condition(*, access: Access, through: str | None) -> Q:
    """Rows of a child model (`through`: its link to the incident, a same-tenant key) whose incident the
    caller sees in full (Need.FULL: a child is never part of a summary); `through=None`: incidents seen in
    full, for a query of incidents that reads what a summary hides. The rule of incident_visible on the
    joined incident's columns, so that a list of children checks each row it reads instead of first
    building the set of every visible incident (issue 7); wrap it in apps.core.conditions.checked_per_row."""
    if through is None:
        return _visibility(access).full
    rule = _visibility(access, incident=f"{through}_id", restricted=f"{through}__restricted")
    return Q(**{f"{through}__isnull": False}) & rule.full


def incident_visible(*, access: Access, need: Need = Need.SUMMARY) -> QuerySet[Incident]:
    """The incidents the caller sees (annotated `summary_only`, `via_grant_only`, `granted_change`); with
    `need=Need.FULL` only those it sees in full: the way to an incident's children and hidden fields."""
    rule = _visibility(access)
    return _with_visibility(access, rule, Incident.unscoped.filter(_condition(rule, need)))


def receiver_access(*, tenant_id) -> Access:
    """How a system outside Vigil (a webhook receiver of the tenant) reads the tenant's incidents: as a
    summary-only reader (incident:read and the need-to-know summary, no grants), so a need-to-know incident
    reaches it as its summary and nothing that belongs to it does."""
    scopes = frozenset({Scope.INCIDENT_READ, Scope.INCIDENT_READ_RESTRICTED_SUMMARY})
    return Access(user_id=None, scopes_by_tenant={tenant_id: scopes})


def incident_hidden_condition(*, access: Access, condition: Q) -> Q:
    """`condition` on what a summary hides (category, owner, regimes, dates, flags, estimates …), made
    false on the rows the caller sees as a summary only: filtering on a hidden field must not tell what it
    holds. Combine with a queryset of incident_visible/incident_list."""
    return condition & ~_visibility(access).summary_only


def incident_search_condition(*, access: Access, q: str) -> Q:
    """Full-text search (websearch syntax, stemmed): an incident seen in full matches on its reference,
    title and description (search_vector), one seen as a summary only on its reference and title, so that
    neither a word nor a `-word` of a hidden description tells anything. Both arms are indexed."""
    query = SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)
    summary_only = _visibility(access).summary_only
    summary_words = Q(SearchVectorExact(SUMMARY_SEARCH_VECTOR, query))
    return (Q(search_vector=query) & ~summary_only) | (summary_words & summary_only)


def incident_list(*, access: Access) -> QuerySet[Incident]:
    """incident_visible shaped for a page of a list: filtered by the context's tenants (and the incidents
    granted elsewhere, when there are some) and the visibility rule checked on each row read, so a page
    walks the tenant's ordered index instead of reading and sorting every visible incident (issue 7)."""
    rule = _visibility(access)
    reachable = Q(tenant_id__in=current_context().tenant_ids)
    if granted_elsewhere := incidents_granted_elsewhere(access=access):
        reachable |= Q(id__in=granted_elsewhere)
    incidents = Incident.unscoped.filter(reachable).filter(checked_per_row(_condition(rule, Need.SUMMARY)))
    return _with_visibility(access, rule, incidents)


def _with_visibility(access: Access, rule: _Visibility, incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    return incidents.annotate(
        via_grant_only=Case(
            When(rule.in_role, then=Value(False)), default=Value(True), output_field=BooleanField()
        ),
        summary_only=Case(
            When(rule.summary_only, then=Value(True)), default=Value(False), output_field=BooleanField()
        ),
        granted_change=_granted(access, [GRANT_CODENAMES[GrantPermission.CHANGE]]),
    ).select_related("tenant", "owner", "category")


def with_team_ids(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """`team_ids`: the team's user ids, oldest member first, read in the incidents' own query (an array
    per row) rather than a prefetch query and a queryset per incident."""
    members = IncidentTeamMember.unscoped.filter(incident_id=OuterRef("pk")).order_by("created_at", "id")
    return incidents.annotate(team_ids=ArraySubquery(members.values("user_id")))


def incident_get(
    *,
    access: Access,
    actor,
    incident_id,
    visible: QuerySet[Incident] | None = None,
    need: Need = Need.SUMMARY,
) -> Incident:
    """One visible incident (DoesNotExist otherwise: 404), seen as `need` asks (Need.FULL: one seen as a
    summary only does not exist); an outsider's read through a grant is put on record. `visible`:
    incident_visible(access=access, need=need) with a caller's own additions (an API view's annotations)."""
    if visible is None:
        visible = incident_visible(access=access, need=need)
    incident = visible.get(pk=incident_id)
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


# An incident's children are read through the incident, which incident_visible(need=Need.FULL) let through.
def timeline_list(*, incident: Incident) -> QuerySet[TimelineEntry]:
    return TimelineEntry.unscoped.filter(incident=incident).select_related("actor")


def action_list(*, incident: Incident) -> QuerySet[ResponseAction]:
    return ResponseAction.unscoped.filter(incident=incident).select_related("assignee", "created_by")
