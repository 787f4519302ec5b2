import django_filters
from django.contrib.postgres.search import SearchQuery

from apps.response.choices import IncidentStatus, Severity
from apps.response.models import Incident
from apps.tenancy.api.filters import TenantNarrowingFilter


class IncidentFilter(django_filters.FilterSet):
    # Declared rather than generated from Meta.fields: generation queries the fail-closed default manager.
    tenant = TenantNarrowingFilter()
    # `field IN (…)`, not django-filter's `a OR b` with DISTINCT: the DISTINCT sorts every matching row by
    # every column and the OR keeps the indexes out (a sequential scan of all incidents at 1M, issue 7).
    status = django_filters.MultipleChoiceFilter(choices=IncidentStatus.choices, method="one_of")
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, method="one_of")
    category = django_filters.UUIDFilter(field_name="category_id")
    q = django_filters.CharFilter(method="search", max_length=200, label="Full-text search")

    class Meta:
        model = Incident
        fields = []

    def one_of(self, queryset, name, value):
        return queryset.filter(**{f"{name}__in": value}) if value else queryset

    def search(self, queryset, name, value):
        return queryset.filter(search_vector=SearchQuery(value, search_type="websearch", config="english"))
