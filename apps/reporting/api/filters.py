import django_filters
from django.db.models import Q

from apps.reporting.choices import ReportKind, ReportStatus
from apps.reporting.models import Report


class ReportFilter(django_filters.FilterSet):
    # Declared rather than generated from Meta.fields: generation queries the fail-closed default manager.
    # There is deliberately no `reporter` filter: it would tell who filed a confidential report.
    tenant = django_filters.UUIDFilter(field_name="tenant_id")
    status = django_filters.MultipleChoiceFilter(choices=ReportStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=ReportKind.choices)
    # The incident a report became, as report_list shows it: no probing of an incident one does not see.
    incident = django_filters.UUIDFilter(field_name="shown_incident_id")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Only the reports I filed")
    q = django_filters.CharFilter(method="filter_q", label="Text in the reference, title or description")

    class Meta:
        model = Report
        fields = []

    def filter_mine(self, queryset, name, value):
        user_id = getattr(self.request.user, "pk", None)
        return queryset.filter(reporter_id=user_id) if value else queryset.exclude(reporter_id=user_id)

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value) | Q(title__icontains=value) | Q(description__icontains=value)
        )
