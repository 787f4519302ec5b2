import django_filters
from django.db.models import Q

from apps.catalog.models import Category, Regime


class CategoryFilter(django_filters.FilterSet):
    # Declared rather than generated from Meta.fields: generation queries the fail-closed default manager.
    tenant = django_filters.UUIDFilter(field_name="tenant_id")
    shipped = django_filters.BooleanFilter(field_name="tenant", lookup_expr="isnull")
    active = django_filters.BooleanFilter(field_name="is_active")
    parent = django_filters.UUIDFilter(field_name="parent_id")
    q = django_filters.CharFilter(method="filter_q", label="Text in the code or name")

    class Meta:
        model = Category
        fields = []

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value)) if value else queryset


class RegimeFilter(django_filters.FilterSet):
    tenant = django_filters.UUIDFilter(field_name="tenant_id")
    shipped = django_filters.BooleanFilter(field_name="tenant", lookup_expr="isnull")
    enabled = django_filters.BooleanFilter()
    code = django_filters.CharFilter()

    class Meta:
        model = Regime
        fields = []
