import django_filters

from apps.reviews import selectors
from apps.reviews.choices import ActionKind, CorrectiveActionStatus, ReviewStatus
from apps.reviews.models import CorrectiveAction, Review


class ReviewFilter(django_filters.FilterSet):
    # Declared rather than generated from Meta.fields: generation queries the fail-closed default manager.
    tenant = django_filters.UUIDFilter(field_name="tenant_id")
    incident = django_filters.UUIDFilter(field_name="incident_id")
    status = django_filters.ChoiceFilter(choices=ReviewStatus.choices)

    class Meta:
        model = Review
        fields = []


class CorrectiveActionFilter(django_filters.FilterSet):
    tenant = django_filters.UUIDFilter(field_name="tenant_id")
    review = django_filters.UUIDFilter(field_name="review_id")
    incident = django_filters.UUIDFilter(field_name="review__incident_id")
    owner = django_filters.UUIDFilter(field_name="owner_id")
    kind = django_filters.ChoiceFilter(choices=ActionKind.choices)
    status = django_filters.MultipleChoiceFilter(choices=CorrectiveActionStatus.choices)
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Pending past its due date")

    class Meta:
        model = CorrectiveAction
        fields = []

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = selectors.corrective_action_overdue(queryset)
        if value:
            return overdue
        return queryset.exclude(pk__in=overdue.values("pk"))


class LessonFilter(django_filters.FilterSet):
    tenant = django_filters.UUIDFilter(field_name="tenant_id")
    q = django_filters.CharFilter(
        method="search", max_length=200, label="Full-text search (web search syntax)"
    )

    class Meta:
        model = Review
        fields = []

    def search(self, queryset, name, value):
        return selectors.lesson_search(queryset, q=value)
