import django_filters

from apps.core.api.filters import UTCIsoDateTimeFilter
from apps.notifications import selectors
from apps.notifications.choices import OVERDUE, AuthorityKind, ObligationStatus
from apps.notifications.models import Authority, Obligation

OBLIGATION_STATUS_FILTER = [*ObligationStatus.choices, (OVERDUE, "Overdue (pending past due)")]


class ObligationFilter(django_filters.FilterSet):
    # Declared rather than generated from Meta.fields: generation queries the fail-closed default manager.
    tenant = django_filters.UUIDFilter(field_name="tenant_id")
    # An annual obligation matches each incident it collects.
    incident = django_filters.UUIDFilter(method="filter_incident")
    regime = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=OBLIGATION_STATUS_FILTER, method="filter_status")
    due_before = UTCIsoDateTimeFilter(field_name="due_at", lookup_expr="lt")

    class Meta:
        model = Obligation
        fields = []

    def filter_incident(self, queryset, name, value):
        return selectors.obligation_of_incident(queryset, value)

    def filter_status(self, queryset, name, value):
        if value == OVERDUE:
            return selectors.obligation_overdue(queryset)
        return queryset.filter(status=value)


class AuthorityFilter(django_filters.FilterSet):
    tenant = django_filters.UUIDFilter(field_name="tenant_id")
    kind = django_filters.ChoiceFilter(choices=AuthorityKind.choices)
    jurisdiction = django_filters.CharFilter()

    class Meta:
        model = Authority
        fields = []
