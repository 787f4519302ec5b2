import django_filters

from apps.audit.models import AuditChainHead, AuditEntry
from apps.core.api.filters import UTCIsoDateTimeFilter
from apps.tenancy.api.filters import TenantNarrowingFilter


class AuditEntryFilter(django_filters.FilterSet):
    # Declared rather than generated from Meta.fields: generation queries the fail-closed default manager.
    tenant = TenantNarrowingFilter()
    verb = django_filters.CharFilter()
    target_type = django_filters.CharFilter()
    target_id = django_filters.CharFilter()
    since = UTCIsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = UTCIsoDateTimeFilter(field_name="at", lookup_expr="lt")
    incident = django_filters.UUIDFilter(field_name="incident_id")
    actor = django_filters.UUIDFilter(field_name="actor_id")

    class Meta:
        model = AuditEntry
        fields = []


class AuditCheckpointFilter(django_filters.FilterSet):
    tenant = TenantNarrowingFilter()
    chain = django_filters.CharFilter()
    since = UTCIsoDateTimeFilter(field_name="recorded_at", lookup_expr="gte")

    class Meta:
        model = AuditChainHead
        fields = []
