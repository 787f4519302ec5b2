"""Serializers of the delivery channels: in-app notifications, preferences, webhooks and their deliveries."""

from rest_framework import serializers

from apps.core.api.fields import ScopedPrimaryKeyRelatedField
from apps.core.api.serializers import StrictModelSerializer, StrictSerializer
from apps.notifications.choices import WebhookEventType
from apps.notifications.models import Notification, WebhookDelivery, WebhookSubscription
from apps.notifications.webhooks import standard_webhooks_secret
from apps.tenancy.selectors import tenant_list


class NotificationSerializer(serializers.ModelSerializer):
    """One of the caller's in-app notifications; `read` is whether `read_at` is set."""

    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "tenant",
            "kind",
            "subject",
            "body",
            "incident",
            "link",
            "critical",
            "created_at",
            "read_at",
            "read",
        ]
        read_only_fields = fields

    def get_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class NotificationPreferenceSerializer(serializers.Serializer):
    """The caller's channels for one notification type. `critical`: always delivered (cannot be silenced)."""

    kind = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    in_app = serializers.BooleanField(read_only=True)
    email = serializers.BooleanField(read_only=True)
    critical = serializers.BooleanField(read_only=True)


class NotificationPreferenceWriteSerializer(StrictSerializer):
    in_app = serializers.BooleanField()
    email = serializers.BooleanField()


class WebhookSerializer(StrictModelSerializer):
    """An outbound webhook subscription. `secret` is write-only: shown once, in the response to the POST
    that created it (generated when not given); PATCH a new one to rotate it."""

    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.choices), allow_empty=False, max_length=50
    )
    secret = serializers.CharField(
        write_only=True, required=False, min_length=16, max_length=200, trim_whitespace=False
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "tenant",
            "url",
            "events",
            "secret",
            "active",
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "tenant", "created_at", "updated_at"]


class WebhookCreateSerializer(WebhookSerializer):
    tenant = ScopedPrimaryKeyRelatedField(lambda access: tenant_list(access=access))

    class Meta(WebhookSerializer.Meta):
        read_only_fields = ["id", "created_at", "updated_at"]


class WebhookCreatedSerializer(WebhookSerializer):
    """The response to a create: the only time the secret is shown, also written for Standard Webhooks
    libraries (`standardwebhooks.Webhook(standard_webhooks_secret)`)."""

    secret = serializers.CharField(read_only=True)
    standard_webhooks_secret = serializers.SerializerMethodField()

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "standard_webhooks_secret"]

    def get_standard_webhooks_secret(self, subscription: WebhookSubscription) -> str:
        return standard_webhooks_secret(subscription.secret)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One delivery attempt. `delivery` is the X-Vigil-Delivery id (the same for every attempt of one
    message); `delivery_status` is the message's: pending (retrying), delivered or dead (given up)."""

    delivery = serializers.UUIDField(source="message_id", read_only=True)
    delivery_status = serializers.CharField(source="message.status", read_only=True)
    next_attempt_at = serializers.DateTimeField(source="message.next_attempt_at", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "delivery",
            "event_type",
            "attempt",
            "status_code",
            "ok",
            "error",
            "duration_ms",
            "created_at",
            "delivery_status",
            "next_attempt_at",
        ]
        read_only_fields = fields
