"""Delivery channels: the caller's in-app notifications and preferences, the tenants' webhooks."""

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, pagination, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from apps.notifications import inbox, preferences, webhooks
from apps.notifications.api.channel_serializers import (
    NotificationPreferenceSerializer,
    NotificationPreferenceWriteSerializer,
    NotificationSerializer,
    WebhookCreatedSerializer,
    WebhookCreateSerializer,
    WebhookDeliverySerializer,
    WebhookSerializer,
)
from apps.notifications.models import Notification, NotificationPreference, WebhookDelivery
from apps.tenancy.api.base import AUTHENTICATED, TenantScopedViewSet
from apps.tenancy.roles import Scope


class NotificationFilter(django_filters.FilterSet):
    tenant = django_filters.UUIDFilter(field_name="tenant_id")
    kind = django_filters.CharFilter()
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label="Unread only")

    class Meta:
        model = Notification
        fields = []


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """The caller's own in-app notifications, newest first (`?unread=true` for the unread ones). Another
    person's notification is 404."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"list": AUTHENTICATED, "retrieve": AUTHENTICATED, "read": AUTHENTICATED}

    def scoped_queryset(self) -> QuerySet[Notification]:
        return inbox.notification_list(access=self.access)

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark read (idempotent: the first read time is kept)."""
        notification = inbox.notification_mark_read(notification=self.get_object())
        return Response(NotificationSerializer(notification).data)


class OnePagePagination(pagination.BasePagination):
    """A short, fixed list (one row per notification type) in the contract's list shape, on one page."""

    def paginate_queryset(self, queryset, request, view=None):
        return list(queryset)

    def get_paginated_response(self, data):
        return Response({"results": data, "next": None, "previous": None})

    def get_paginated_response_schema(self, schema):
        nullable_url = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["results"],
            "properties": {"results": schema, "next": nullable_url, "previous": nullable_url},
        }


_KIND = OpenApiParameter(
    "kind", str, OpenApiParameter.PATH, description="A notification type, e.g. obligation.due_soon."
)


class NotificationPreferenceViewSet(TenantScopedViewSet):
    """The caller's channels per notification type (no choice made: every channel on). PUT or PATCH
    `/notification-preferences/{kind}/`; an unknown type is a 400. Critical notifications (a deadline
    overdue) are delivered whatever the preference says."""

    serializer_class = NotificationPreferenceSerializer
    pagination_class = OnePagePagination
    lookup_field = "kind"
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "put", "patch", "head", "options"]
    action_scopes = {
        "list": AUTHENTICATED,
        "retrieve": AUTHENTICATED,
        "update": AUTHENTICATED,
        "partial_update": AUTHENTICATED,
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return NotificationPreference.objects.none()
        return NotificationPreference.objects.filter(user_id=self.access.user_id)

    def list(self, request):
        page = self.paginate_queryset(preferences.preference_list(user=request.user))
        return self.get_paginated_response(NotificationPreferenceSerializer(page, many=True).data)

    @extend_schema(parameters=[_KIND])
    def retrieve(self, request, kind=None):
        return Response(
            NotificationPreferenceSerializer(preferences.preference_get(user=request.user, kind=kind)).data
        )

    @extend_schema(
        parameters=[_KIND],
        request=NotificationPreferenceWriteSerializer,
        responses={200: NotificationPreferenceSerializer},
    )
    def update(self, request, kind=None):
        return self._set(request, kind, partial=False)

    @extend_schema(
        parameters=[_KIND],
        request=NotificationPreferenceWriteSerializer,
        responses={200: NotificationPreferenceSerializer},
    )
    def partial_update(self, request, kind=None):
        return self._set(request, kind, partial=True)

    def _set(self, request, kind, *, partial: bool):
        serializer = NotificationPreferenceWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        preference = preferences.preference_set(
            actor=request.user, user=request.user, kind=kind, **serializer.validated_data
        )
        return Response(NotificationPreferenceSerializer(preference).data)


class WebhookViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    TenantScopedViewSet,
):
    """Outbound webhooks of the tenants the caller administers (api-v1, Webhook deliveries). The secret is
    shown once, in the response to the POST that created it."""

    serializer_class = WebhookSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_scopes = {
        "list": Scope.TENANT_ADMIN,
        "retrieve": Scope.TENANT_ADMIN,
        "create": Scope.TENANT_ADMIN,
        "partial_update": Scope.TENANT_ADMIN,
        "destroy": Scope.TENANT_ADMIN,
    }

    def get_serializer_class(self):
        return WebhookCreateSerializer if self.action == "create" else WebhookSerializer

    def scoped_queryset(self):
        return webhooks.webhook_list(access=self.access)

    @extend_schema(request=WebhookCreateSerializer, responses={201: WebhookCreatedSerializer})
    def create(self, request):
        serializer = WebhookCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        subscription = webhooks.webhook_create(
            actor=request.user, access=self.access, **serializer.validated_data
        )
        return Response(WebhookCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookSerializer, responses={200: WebhookSerializer})
    def partial_update(self, request, pk=None):
        subscription = self.get_object()
        serializer = WebhookSerializer(subscription, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        subscription = webhooks.webhook_update(
            actor=request.user, access=self.access, subscription=subscription, **serializer.validated_data
        )
        return Response(WebhookSerializer(subscription).data)

    def perform_destroy(self, instance):
        webhooks.webhook_delete(actor=self.request.user, access=self.access, subscription=instance)


class WebhookDeliveryViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    """The delivery log of one webhook, newest attempt first."""

    serializer_class = WebhookDeliverySerializer
    action_scopes = {"list": Scope.TENANT_ADMIN}

    def get_subscription(self):
        if not hasattr(self, "_subscription"):
            self._subscription = get_object_or_404(
                webhooks.webhook_list(access=self.access), pk=self.kwargs["webhook_pk"]
            )
        return self._subscription

    def scoped_queryset(self) -> QuerySet[WebhookDelivery]:
        return webhooks.webhook_delivery_list(subscription=self.get_subscription()).select_related("message")
