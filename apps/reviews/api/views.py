from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from apps.core.api.pagination import OffsetPagination
from apps.response.selectors import Need, incident_get
from apps.reviews import selectors, services
from apps.reviews.api.filters import CorrectiveActionFilter, LessonFilter, ReviewFilter
from apps.reviews.api.serializers import (
    CorrectiveActionCreateSerializer,
    CorrectiveActionSerializer,
    LessonSerializer,
    ReviewCreateSerializer,
    ReviewSerializer,
    ReviewUpdateSerializer,
)
from apps.reviews.models import Review
from apps.tenancy.api.base import AUTHENTICATED, TenantScopedViewSet
from apps.tenancy.roles import Scope


def _put_grant_read_on_record(view, incident_id) -> None:
    """A review read by an outsider through a grant is logged like the incident itself (design rule 1)."""
    incident_get(access=view.access, actor=view.request.user, incident_id=incident_id, need=Need.FULL)


class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Post-incident reviews, one per incident. `status` changes only through /complete/."""

    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_scopes = {
        "list": AUTHENTICATED,
        "retrieve": AUTHENTICATED,
        "create": Scope.REVIEW_WRITE,
        "partial_update": Scope.REVIEW_WRITE,
        "complete": Scope.REVIEW_APPROVE,
    }

    def scoped_queryset(self):
        return selectors.review_list(access=self.access)

    def get_object(self):
        review = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        _put_grant_read_on_record(self, review.incident_id)
        return review

    def _reloaded(self, review):
        return self.get_serializer(self.get_queryset().get(pk=review.pk)).data

    @extend_schema(request=ReviewCreateSerializer, responses={201: ReviewSerializer})
    def create(self, request):
        serializer = ReviewCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        review = services.review_create(actor=request.user, access=self.access, **serializer.validated_data)
        return Response(self._reloaded(review), status=status.HTTP_201_CREATED)

    @extend_schema(request=ReviewUpdateSerializer, responses={200: ReviewSerializer})
    def partial_update(self, request, pk=None):
        review = self.get_object()
        serializer = ReviewUpdateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.review_update(
            actor=request.user, access=self.access, review=review, **serializer.validated_data
        )
        return Response(self._reloaded(review))

    @extend_schema(request=None, responses={200: ReviewSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Approve the review (draft → completed): an approving manager; root_cause and lessons_learned
        must be written down (409 with the reason otherwise)."""
        review = self.get_object()
        services.review_complete(actor=request.user, access=self.access, review=review)
        return Response(self._reloaded(review))


class ReviewChildViewSet(TenantScopedViewSet):
    """Base of the endpoints under /reviews/{id}/: the review is resolved through the same visibility rule
    as the review itself (404 otherwise)."""

    def get_review(self):
        if not hasattr(self, "_review"):
            self._review = get_object_or_404(
                selectors.review_list(access=self.access), pk=self.kwargs["review_pk"]
            )
            _put_grant_read_on_record(self, self._review.incident_id)
        return self._review


class CorrectiveActionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ReviewChildViewSet,
):
    """Corrective and preventive actions of one review. Their status may be PATCHed within its
    transitions; owners move their own actions along, managers verify effectiveness."""

    serializer_class = CorrectiveActionSerializer
    filterset_class = CorrectiveActionFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_scopes = {
        "list": AUTHENTICATED,
        "retrieve": AUTHENTICATED,
        "create": Scope.REVIEW_WRITE,
        "partial_update": Scope.INCIDENT_WRITE,  # an owner may update its own; the service decides
    }

    def get_serializer_class(self):
        return CorrectiveActionCreateSerializer if self.action == "create" else CorrectiveActionSerializer

    def scoped_queryset(self):
        return selectors.corrective_action_list(access=self.access, review=self.get_review())

    def create(self, request, *args, **kwargs):
        self.get_review()  # 404 on the review before validating the body
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.corrective_action_create(
            actor=self.request.user,
            access=self.access,
            review=self.get_review(),
            **serializer.validated_data,
        )

    def perform_update(self, serializer):
        serializer.instance = services.corrective_action_update(
            actor=self.request.user,
            access=self.access,
            action=serializer.instance,
            **serializer.validated_data,
        )


class CorrectiveActionListViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    """Every corrective action the caller may read, across reviews: `?overdue=true` for dashboards."""

    serializer_class = CorrectiveActionSerializer
    filterset_class = CorrectiveActionFilter
    action_scopes = {"list": AUTHENTICATED}

    def scoped_queryset(self):
        return selectors.corrective_action_list(access=self.access)


class RankedPagination(OffsetPagination):
    """Search hits come best first, so they page by offset; no COUNT(*): one query per page."""

    default_limit = 50  # as the other lists
    limit_query_param = "page_size"  # the same parameter name as the cursor-paginated lists
    max_limit = 200

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        rows = list(queryset[self.offset : self.offset + self.limit + 1])
        self.count = self.offset + len(rows)  # enough for get_next_link: one row past the page
        return rows[: self.limit]

    def get_paginated_response(self, data):
        return Response({"results": data, "next": self.get_next_link(), "previous": self.get_previous_link()})

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"].pop("count", None)
        paginated["required"] = ["results"]
        return paginated


class LessonViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    """Search over past incidents and their lessons: `?q=` (web search syntax: words, "phrases", -not,
    or), completed reviews of incidents the caller may read, ranked best first. Without `q`, the latest
    lessons."""

    serializer_class = LessonSerializer
    filterset_class = LessonFilter
    pagination_class = RankedPagination
    action_scopes = {"list": AUTHENTICATED}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Review._base_manager.none()
        return self.scoped_queryset()

    def scoped_queryset(self):
        return selectors.lesson_candidates(access=self.access)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.request.query_params.get("q", "").strip():
            queryset = selectors.lesson_latest(queryset)
        return queryset
