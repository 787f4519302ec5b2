"""/api/v1/calendar/: the caller's personal iCalendar feed URL (GET), and a new one (POST: rotate)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.notifications import feeds
from apps.tenancy.api.base import AUTHENTICATED, TenantScopedViewSet


class CalendarFeedSerializer(serializers.Serializer):
    url = serializers.URLField(read_only=True, help_text="The secret link serving text/calendar.")
    created_at = serializers.DateTimeField(read_only=True)
    rotated_at = serializers.DateTimeField(read_only=True, allow_null=True)


class CalendarViewSet(TenantScopedViewSet):
    """The caller's deadlines as an iCalendar feed: pending obligations of the incidents they may see and
    their own open training assignments. The URL is a secret: anyone holding it reads the feed; POST
    replaces it (the old link stops working at once)."""

    serializer_class = CalendarFeedSerializer
    http_method_names = ["get", "post", "head", "options"]
    pagination_class = None
    filter_backends = []
    action_scopes = {"feed": AUTHENTICATED, "rotate": AUTHENTICATED}

    def scoped_queryset(self):  # no rows of any tenant: the feed is the caller's own
        raise NotImplementedError

    def _answer(self, request, feed):
        url = request.build_absolute_uri(feeds.feed_path(feed))
        return Response({"url": url, "created_at": feed.created_at, "rotated_at": feed.rotated_at})

    @extend_schema(request=None, responses={200: CalendarFeedSerializer})
    def feed(self, request):
        return self._answer(request, feeds.calendar_feed_get(user=request.user))

    @extend_schema(request=None, responses={200: CalendarFeedSerializer})
    def rotate(self, request):
        return self._answer(request, feeds.calendar_feed_rotate(user=request.user))
