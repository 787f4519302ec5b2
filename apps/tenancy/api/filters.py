import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from apps.tenancy.models import Membership
from apps.tenancy.roles import RoleId


@extend_schema_field(OpenApiTypes.UUID)
class TenantNarrowingFilter(django_filters.CharFilter):
    """`?tenant=<id>`: that tenant and its descendants. The API base view applies it by narrowing the
    tenant context before any handler runs (and answers 400 for a tenant the caller cannot see); this
    filter only documents the parameter."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Only this tenant and its descendants")
        super().__init__(method=lambda queryset, name, value: queryset, **kwargs)


class MembershipFilter(django_filters.FilterSet):
    user = django_filters.UUIDFilter(field_name="user_id")
    tenant = TenantNarrowingFilter()
    role = django_filters.ChoiceFilter(choices=RoleId.choices)

    class Meta:
        model = Membership
        fields = []
