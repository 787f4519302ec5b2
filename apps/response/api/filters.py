import django_filters
from django.db.models import Q

from apps.response.choices import IncidentStatus, Severity
from apps.response.models import Incident
from apps.response.selectors import incident_hidden_condition, incident_search_condition
from apps.tenancy.api.filters import TenantNarrowingFilter
from apps.tenancy.context import current_context


class IncidentFilter(django_filters.FilterSet):
    # Declared rather than generated from Meta.fields: generation queries the fail-closed default manager.
    tenant = TenantNarrowingFilter()
    # `field IN (…)`, not django-filter's `a OR b` with DISTINCT: the DISTINCT sorts every matching row by
    # every column and the OR keeps the indexes out (a sequential scan of all incidents at 1M, issue 7).
    status = django_filters.MultipleChoiceFilter(choices=IncidentStatus.choices, method="one_of")
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, method="one_of")
    # Status and severity are a summary's; the category is hidden from a summary-only viewer, so that
    # filter never matches an incident it sees as a summary (apps.response.selectors, Need).
    category = django_filters.UUIDFilter(field_name="category_id", method="hidden_field")
    q = django_filters.CharFilter(method="search", max_length=200, label="Full-text search")

    class Meta:
        model = Incident
        fields = []

    def one_of(self, queryset, name, value):
        return queryset.filter(**{f"{name}__in": value}) if value else queryset

    def hidden_field(self, queryset, name, value):
        access = current_context().access
        return queryset.filter(incident_hidden_condition(access=access, condition=Q(**{name: value})))

    def search(self, queryset, name, value):
        return queryset.filter(incident_search_condition(access=current_context().access, q=value))
