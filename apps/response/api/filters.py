import django_filters

from apps.response.choices import IncidentStatus, Severity
from apps.response.models import Incident


class IncidentFilter(django_filters.FilterSet):
    tenant = django_filters.UUIDFilter(field_name="tenant_id")
    status = django_filters.MultipleChoiceFilter(choices=IncidentStatus.choices)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)

    class Meta:
        model = Incident
        fields = []
