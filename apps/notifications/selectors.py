"""Reads of obligations and authorities. Obligations are read through their incident: roles holding
`obligation:read` in its tenant see the obligations of the incidents they see (incident_visible: need-to-know
included; executives see those of restricted incidents too). Another tenant's obligation is 404."""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.core.conditions import checked_per_row
from apps.notifications.choices import ObligationStatus
from apps.notifications.models import AnnualObligationIncident, Authority, Obligation
from apps.response.selectors import incident_visible_condition
from apps.tenancy.access import Access
from apps.tenancy.context import current_context
from apps.tenancy.roles import Scope


def obligation_list(*, access: Access) -> QuerySet[Obligation]:
    """An annual obligation (no incident) is visible with any of the incidents it collects; `collected`
    is prefetched with the visible ones only (one query per page)."""
    readable = current_context().tenant_ids & access.tenants_with(Scope.OBLIGATION_READ)
    # Visibility is checked on each row read (the obligation's own incident, or the incidents an annual one
    # collects), never by building the set of every visible incident first: at 1M incidents that set is
    # 230,000 rows for an executive of 50 tenants (issue 7).
    collects_visible = AnnualObligationIncident.unscoped.filter(
        checked_per_row(incident_visible_condition(access=access, through="incident"))
    )
    annual = Q(incident__isnull=True) & Exists(collects_visible.filter(obligation_id=OuterRef("pk")))
    visible = incident_visible_condition(access=access, through="incident") | annual
    # `unscoped` on purpose: the tenant filter is explicit here, visibility is incident_visible's rule.
    return (
        Obligation.unscoped.filter(tenant_id__in=readable)
        .filter(checked_per_row(visible))
        .select_related("step", "incident")
        .prefetch_related(
            Prefetch(
                "collected",
                queryset=collects_visible.order_by("added_at", "id"),
                to_attr="visible_collected",
            )
        )
    )


def obligation_of_incident(queryset: QuerySet[Obligation], incident_id) -> QuerySet[Obligation]:
    """The incident's own obligations and the annual ones that collect it."""
    collects = Exists(
        AnnualObligationIncident.unscoped.filter(obligation_id=OuterRef("pk"), incident_id=incident_id)
    )
    return queryset.filter(Q(incident_id=incident_id) | collects)


def obligation_overdue(queryset: QuerySet[Obligation], *, now=None) -> QuerySet[Obligation]:
    """Pending past due (served by the partial index notif_obligation_pending_due)."""
    return queryset.filter(status=ObligationStatus.PENDING, due_at__lt=now or timezone.now())


def authority_list(*, access: Access) -> QuerySet[Authority]:
    readable = current_context().tenant_ids & access.tenants_with(Scope.TENANT_READ)
    return Authority.objects.filter(tenant_id__in=readable)
