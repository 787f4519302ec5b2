"""Reads of obligations and authorities. Obligations are read through their incident: roles holding
`obligation:read` in its tenant see the obligations of the incidents they see (incident_visible: need-to-know
included; executives see those of restricted incidents too). Another tenant's obligation is 404."""

from django.db.models import QuerySet
from django.utils import timezone

from apps.notifications.choices import ObligationStatus
from apps.notifications.models import Authority, Obligation
from apps.response.selectors import incident_visible
from apps.tenancy.access import Access
from apps.tenancy.context import current_context
from apps.tenancy.roles import Scope


def obligation_list(*, access: Access) -> QuerySet[Obligation]:
    readable = current_context().tenant_ids & access.tenants_with(Scope.OBLIGATION_READ)
    # `unscoped` on purpose: the tenant filter is explicit here, visibility comes from incident_visible.
    return Obligation.unscoped.filter(
        tenant_id__in=readable, incident_id__in=incident_visible(access=access).values("pk")
    ).select_related("step", "incident")


def obligation_overdue(queryset: QuerySet[Obligation], *, now=None) -> QuerySet[Obligation]:
    """Pending past due (served by the partial index notif_obligation_pending_due)."""
    return queryset.filter(status=ObligationStatus.PENDING, due_at__lt=now or timezone.now())


def authority_list(*, access: Access) -> QuerySet[Authority]:
    readable = current_context().tenant_ids & access.tenants_with(Scope.TENANT_READ)
    return Authority.objects.filter(tenant_id__in=readable)
