import django_filters

from apps.evidence.models import Evidence


class EvidenceFilter(django_filters.FilterSet):
    incident = django_filters.UUIDFilter(field_name="incident_id")
    report = django_filters.UUIDFilter(field_name="report_id")
    sha256 = django_filters.CharFilter(field_name="sha256")

    class Meta:
        model = Evidence
        fields = ["incident", "report", "sha256"]
