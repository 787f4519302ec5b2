"""Reads of obligations and authorities. Obligations are read through their incident: roles holding
`obligation:read` in its tenant see the obligations of the incidents they see in full (incident_visible's
rule, Need.FULL: an obligation is an incident's child, so an executive who sees a need-to-know incident as
a summary does not see its obligations, in lists, the calendar feed or the dashboard). Another tenant's
obligation is 404."""

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.core.conditions import checked_per_row
from apps.notifications.choices import ObligationStatus, OutboxStatus
from apps.notifications.delivery import failure_class
from apps.notifications.models import AnnualObligationIncident, Authority, Obligation, OutboxMessage
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


# Outbox messages whose last attempt failed and that wait for a retry, and those given up (the admin's
# delivery filter uses the same conditions).
OUTBOX_FAILING = Q(status=OutboxStatus.PENDING, attempts__gt=0)
OUTBOX_DEAD = Q(status=OutboxStatus.DEAD)


def outbox_health() -> dict:
    """Outbound delivery at a glance, for /readyz's details and the admin index: messages past their
    retry time by more than a relay lease (nobody is delivering), messages whose last attempt failed and
    that wait for a retry, messages given up, and the exception class of the most recent failure (the class
    only: /readyz answers anyone, and an error text can name recipients). `degraded` while any message is
    overdue or failing. One scan of the outbox, cached for OUTBOX_HEALTH_CACHE_SECONDS."""
    if settings.OUTBOX_HEALTH_CACHE_SECONDS <= 0:
        return _outbox_health()
    return cache.get_or_set(
        "notifications:outbox-health", _outbox_health, settings.OUTBOX_HEALTH_CACHE_SECONDS
    )


def _outbox_health() -> dict:
    late = timezone.now() - timedelta(seconds=settings.OUTBOX_RELAY_LEASE_SECONDS)
    # Pending and given-up messages only (two partial indexes), never the delivered bulk of the outbox.
    waiting = OutboxMessage.objects.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.DEAD])
    counts = waiting.aggregate(
        overdue=Count("pk", filter=Q(status=OutboxStatus.PENDING, next_attempt_at__lt=late)),
        failing=Count("pk", filter=OUTBOX_FAILING),
        dead=Count("pk", filter=OUTBOX_DEAD),
    )
    last_error = (
        OutboxMessage.objects.filter(OUTBOX_FAILING | OUTBOX_DEAD)
        .exclude(last_error="")
        .order_by("-next_attempt_at")
        .values_list("last_error", flat=True)
        .first()
    )
    return {
        "degraded": bool(counts["overdue"] or counts["failing"]),
        **counts,
        "last_error_class": failure_class(last_error) if last_error else None,
    }
