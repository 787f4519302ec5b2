import django_filters

from apps.tenancy.models import Membership
from apps.tenancy.roles import RoleId


class MembershipFilter(django_filters.FilterSet):
    user = django_filters.UUIDFilter(field_name="user_id")
    tenant = django_filters.UUIDFilter(field_name="tenant_id")
    role = django_filters.ChoiceFilter(choices=RoleId.choices)

    class Meta:
        model = Membership
        fields = []
