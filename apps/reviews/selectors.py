"""Reads of reviews, corrective actions and lessons. A review is read through its incident: whoever may
read the incident in full (role, need-to-know, or a grant) reads its review; an executive who sees a
restricted incident as title and severity only does not, and another tenant's review is 404."""

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db.models import F, FloatField, QuerySet, TextField, Value
from django.db.models.functions import Concat, Left
from django.utils import timezone

from apps.response.selectors import Need, incident_visible
from apps.reviews.choices import PENDING_STATUSES, ReviewStatus
from apps.reviews.models import CorrectiveAction, Review
from apps.tenancy.access import Access

SEARCH_CONFIG = "english"
# Plain-text markers around matched words: the snippet is the user's own text, never HTML to trust.
HEADLINE_START, HEADLINE_STOP = "**", "**"
HEADLINE_CHARS = 300


def _readable_incident_ids(access: Access) -> QuerySet:
    return incident_visible(access=access, need=Need.FULL).values("pk")


def review_list(*, access: Access) -> QuerySet[Review]:
    # `unscoped` on purpose: visibility comes from incident_visible, the one selector that crosses the
    # tenant filter (through the grant join only).
    return Review.unscoped.filter(incident_id__in=_readable_incident_ids(access)).select_related("incident")


def corrective_action_list(*, access: Access, review: Review | None = None) -> QuerySet[CorrectiveAction]:
    """The actions of one (already visible) review, or of every review the caller may read."""
    if review is not None:
        actions = CorrectiveAction.unscoped.filter(review=review)
    else:
        actions = CorrectiveAction.unscoped.filter(review__incident_id__in=_readable_incident_ids(access))
    return actions.select_related("review")


def corrective_action_overdue(
    queryset: QuerySet[CorrectiveAction], *, now=None
) -> QuerySet[CorrectiveAction]:
    """Pending actions whose due date has passed (served by the partial index reviews_action_overdue)."""
    return queryset.filter(due_at__lt=now or timezone.now(), status__in=PENDING_STATUSES)


def lesson_candidates(*, access: Access) -> QuerySet[Review]:
    """Completed reviews of incidents the caller may read: what the lessons search looks through."""
    return review_list(access=access).filter(status=ReviewStatus.COMPLETED)


def lesson_latest(queryset: QuerySet[Review]) -> QuerySet[Review]:
    """Without a query: the most recently completed lessons, in the same shape as search hits."""
    return queryset.annotate(
        rank=Value(None, output_field=FloatField()),
        headline=Left("lessons_learned", HEADLINE_CHARS),
    ).order_by("-completed_at", "-id")


def lesson_search(queryset: QuerySet[Review], *, q: str) -> QuerySet[Review]:
    """PostgreSQL full-text search over the reviews' root cause, contributing factors and lessons and the
    incident's title; ranked best first, each with a headline snippet. One query for any page size."""
    query = SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)
    vector = (
        SearchVector("lessons_learned", weight="A", config=SEARCH_CONFIG)
        + SearchVector("root_cause", weight="A", config=SEARCH_CONFIG)
        + SearchVector("incident__title", weight="B", config=SEARCH_CONFIG)
        + SearchVector("contributing_factors", weight="C", config=SEARCH_CONFIG)
    )
    text = Concat(
        F("incident__title"),
        Value(" — "),
        F("lessons_learned"),
        Value(" "),
        F("root_cause"),
        Value(" "),
        F("contributing_factors"),
        output_field=TextField(),
    )
    return (
        queryset.annotate(search=vector)
        .filter(search=query)
        .annotate(
            rank=SearchRank(vector, query),
            headline=SearchHeadline(
                text,
                query,
                config=SEARCH_CONFIG,
                start_sel=HEADLINE_START,
                stop_sel=HEADLINE_STOP,
                max_words=35,
                min_words=15,
                max_fragments=2,
                fragment_delimiter=" … ",
            ),
        )
        .order_by("-rank", "-completed_at", "-id")
    )
