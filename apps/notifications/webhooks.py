"""Outbound webhooks (api-v1, Webhook deliveries): subscriptions, the domain-event subscriber that writes one
outbox message per matching subscription in the event's transaction, and the signature.

A subscription receives the events of its own tenant (not of its descendants). The payload is
`{"id", "type", "created_at", "tenant", "data"}` where `id` is the outbox message id (also sent as
X-Vigil-Delivery, so receivers dedupe retries by it).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.events import DomainEvent, diff, publish, snapshot
from apps.core.validation import validate
from apps.notifications.choices import OutboxChannel, WebhookEventType
from apps.notifications.messaging import outbox_enqueue
from apps.notifications.models import OutboxMessage, WebhookDelivery, WebhookSubscription
from apps.tenancy.access import Access
from apps.tenancy.context import current_context
from apps.tenancy.models import Tenant
from apps.tenancy.roles import Scope

EVENT_TYPES = frozenset(WebhookEventType.values)
# Audited fields; never `secret`: the audit trail must not hold it.
WEBHOOK_FIELDS = ["url", "events", "active", "description"]
SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker in generated secrets, not a secret
MIN_SECRET_LENGTH = 16
# What a confidential event may still tell a receiver: nothing that identifies the reporter.
CONFIDENTIAL_DATA_KEYS = frozenset({"reference", "kind", "confidential", "sha256", "size"})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


# --------------------------------------------------------------------------------------------------
# Signature
# --------------------------------------------------------------------------------------------------


def generate_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(*, secret: str, timestamp: int | str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, the X-Vigil-Signature header."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def insecure_local_allowed() -> bool:
    return bool(settings.WEBHOOK_ALLOW_HTTP_LOCALHOST)


def validate_url(url: str) -> None:
    """https only; plain http only to the local machine, and only where settings allow it (DEBUG, tests).
    IP literals of private, loopback and link-local networks are refused over https too (SSRF)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    local = host in LOCAL_HOSTS
    if parts.scheme == "http" and local and insecure_local_allowed():
        return
    if parts.scheme != "https":
        raise ValidationError({"url": ["Must be an https:// URL."]})
    if not host:
        raise ValidationError({"url": ["Must name a host."]})
    if local and not insecure_local_allowed():
        raise ValidationError({"url": ["Must not point at this machine."]})
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return  # a name: checked again when delivering (apps.notifications.delivery)
    if not address.is_global and not (local and insecure_local_allowed()):
        raise ValidationError({"url": ["Must not point at a private, loopback or reserved address."]})


def _validate_events(events) -> list[str]:
    events = list(dict.fromkeys(events or []))
    if not events:
        raise ValidationError({"events": ["Name at least one event type."]})
    unknown = sorted(set(events) - EVENT_TYPES)
    if unknown:
        raise ValidationError({"events": [f"Unknown event types: {', '.join(unknown)}."]})
    return events


def _validate_secret(secret: str) -> str:
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValidationError({"secret": [f"Must be at least {MIN_SECRET_LENGTH} characters."]})
    return secret


# --------------------------------------------------------------------------------------------------
# Subscriptions: reads and writes
# --------------------------------------------------------------------------------------------------


def webhook_list(*, access: Access) -> QuerySet[WebhookSubscription]:
    administered = current_context().tenant_ids & access.tenants_with(Scope.TENANT_ADMIN)
    return WebhookSubscription.objects.filter(tenant_id__in=administered)


def webhook_delivery_list(*, subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(subscription=subscription)


def _require_admin(access: Access, tenant_id) -> None:
    if not access.has_scope(tenant_id, Scope.TENANT_ADMIN):
        raise PermissionDenied("You do not administer this tenant's webhooks.")


@transaction.atomic
def webhook_create(
    *,
    actor,
    access: Access,
    tenant: Tenant,
    url: str,
    events: list[str],
    secret: str = "",
    active: bool = True,
    description: str = "",
) -> WebhookSubscription:
    """A new subscription; without a secret one is generated (the API shows it once, in the response)."""
    _require_admin(access, tenant.id)
    validate_url(url)
    subscription = WebhookSubscription(
        tenant=tenant,
        url=url,
        events=_validate_events(events),
        secret=_validate_secret(secret) if secret else generate_secret(),
        active=active,
        description=description,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    validate(subscription)
    subscription.save(force_insert=True)
    publish(
        verb="webhook.created",
        actor=actor,
        target=subscription,
        tenant_id=tenant.id,
        changes=diff(subscription, {}, WEBHOOK_FIELDS),
    )
    return subscription


@transaction.atomic
def webhook_update(
    *, actor, access: Access, subscription: WebhookSubscription, **fields
) -> WebhookSubscription:
    """Change url, events, active, description; a new `secret` rotates it (recorded, never its value)."""
    _require_admin(access, subscription.tenant_id)
    unknown = sorted(set(fields) - {*WEBHOOK_FIELDS, "secret"})
    if unknown:
        raise ValidationError({name: ["Unknown or read-only field."] for name in unknown})
    subscription = WebhookSubscription.unscoped.select_for_update().get(pk=subscription.pk)
    before = snapshot(subscription, WEBHOOK_FIELDS)
    if "url" in fields:
        validate_url(fields["url"])
    if "events" in fields:
        fields["events"] = _validate_events(fields["events"])
    rotated = "secret" in fields and fields["secret"] != subscription.secret
    if "secret" in fields:
        fields["secret"] = _validate_secret(fields["secret"])
    for name, value in fields.items():
        setattr(subscription, name, value)
    validate(subscription)
    subscription.save()
    changes = diff(subscription, before, WEBHOOK_FIELDS)
    if changes or rotated:
        publish(
            verb="webhook.updated",
            actor=actor,
            target=subscription,
            tenant_id=subscription.tenant_id,
            changes=changes,
            data={"secret_rotated": True} if rotated else {},
        )
    return subscription


@transaction.atomic
def webhook_delete(*, actor, access: Access, subscription: WebhookSubscription) -> None:
    """Remove a subscription and its delivery log; its pending messages are given up when next tried."""
    _require_admin(access, subscription.tenant_id)
    publish(
        verb="webhook.deleted",
        actor=actor,
        target=subscription,
        tenant_id=subscription.tenant_id,
        changes={"url": [subscription.url, None], "events": [subscription.events, None]},
    )
    WebhookSubscription.unscoped.filter(pk=subscription.pk).delete()


# --------------------------------------------------------------------------------------------------
# Events -> outbox
# --------------------------------------------------------------------------------------------------


def _jsonable(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


def event_data(event: DomainEvent) -> dict:
    """The `data` of a webhook for a domain event. A confidential event (a confidential reporter's report
    and its attachments) carries no actor, no changes and only non-identifying data."""
    data: dict = {
        "target": {"type": event.target_type, "id": event.target_id},
        "incident": str(event.incident_id) if event.incident_id else None,
    }
    if event.confidential:
        data["data"] = {key: value for key, value in event.data.items() if key in CONFIDENTIAL_DATA_KEYS}
    else:
        data["actor"] = {
            "id": str(event.actor_id) if event.actor_id is not None else None,
            "username": event.actor_repr,
        }
        data["changes"] = dict(event.changes)
        data["data"] = dict(event.data)
    return _jsonable(data)


def webhook_emit(*, tenant_id, event_type: str, data: dict) -> list[OutboxMessage]:
    """Write one outbox message per active subscription of the tenant to `event_type`, in the caller's
    transaction (delivered after commit; a rolled-back change sends nothing). For events without a domain
    event of the same verb (reminders publish theirs), call it directly."""
    if tenant_id is None or event_type not in EVENT_TYPES:
        return []
    subscriptions = WebhookSubscription.unscoped.filter(
        tenant_id=tenant_id, active=True, events__contains=[event_type]
    ).values_list("pk", "url")
    created_at = timezone.now().isoformat()
    messages = []
    for subscription_id, url in subscriptions:
        event = {"type": event_type, "created_at": created_at, "tenant": str(tenant_id), "data": data}
        message = outbox_enqueue(
            channel=OutboxChannel.WEBHOOK,
            recipient=url,
            tenant_id=tenant_id,
            subject=event_type,
            payload={"subscription": str(subscription_id), "event": event},
        )
        messages.append(message)
    return messages


def webhook_on_event(event: DomainEvent) -> None:
    """Subscriber (NotificationsConfig.ready) for every verb that is a webhook type."""
    webhook_emit(tenant_id=event.tenant_id, event_type=event.verb, data=event_data(event))


def webhook_body(message: OutboxMessage) -> bytes:
    """The exact bytes POSTed for a webhook message: the same on every attempt."""
    event = message.payload["event"]
    envelope = {
        "id": str(message.pk),
        "type": event["type"],
        "created_at": event["created_at"],
        "tenant": event["tenant"],
        "data": event["data"],
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=False).encode()
