"""Outbound webhooks (api-v1, Webhook deliveries): subscriptions, the domain-event subscriber that writes one
outbox message per matching subscription in the event's transaction, and the signature.

A subscription receives the events of its own tenant (not of its descendants). The payload is
`{"id", "type", "created_at", "tenant", "data"}` where `id` is the outbox message id (also sent as
X-Vigil-Delivery and webhook-id, so receivers dedupe retries by it) and `data` describes the event's object
(event_data).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from standardwebhooks import Webhook

from apps.core.events import DomainEvent, diff, publish, snapshot
from apps.core.representations import representation
from apps.core.validation import validate
from apps.notifications.addresses import parse_address, refusal
from apps.notifications.choices import OutboxChannel, WebhookEventType
from apps.notifications.messaging import outbox_enqueue
from apps.notifications.models import OutboxMessage, WebhookDelivery, WebhookSubscription
from apps.response.selectors import Need, incident_visible, receiver_access
from apps.tenancy.access import Access
from apps.tenancy.context import activate, current_context
from apps.tenancy.models import Tenant
from apps.tenancy.roles import Scope

EVENT_TYPES = frozenset(WebhookEventType.values)
# Audited fields; never `secret`: the audit trail must not hold it.
WEBHOOK_FIELDS = ["url", "events", "active", "description"]
SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker in generated secrets, not a secret
MIN_SECRET_LENGTH = 16
INCIDENT_LABEL = "response.incident"
# What an event tells a receiver beside its object, by verb: {name in `data`: key of the event's data}.
EVENT_FACTS: dict[str, dict[str, str]] = {
    "incident.transitioned": {"transition": "transition"},
    "obligation.due_soon": {"reminder": "point"},
    "obligation.overdue": {"reminder": "point"},
    "obligation.submitted": {"late": "late"},
    "evidence.integrity_failed": {
        "sha256_actual": "sha256_actual",
        "size_actual": "size_actual",
        "missing": "missing",
    },
}
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


def standard_webhooks_secret(secret: str) -> str:
    """The subscription secret as Standard Webhooks writes one ("whsec_" + base64 of the key), the key being
    the secret's UTF-8 bytes, as for X-Vigil-Signature: `standardwebhooks.Webhook(<this>)` verifies."""
    return SECRET_PREFIX + base64.b64encode(secret.encode()).decode()


def signature_headers(*, secret: str, delivery_id: str, event_type: str, timestamp: int, body: bytes) -> dict:
    """Both schemes on every delivery: Vigil's X-Vigil-* and Standard Webhooks' webhook-* (the signature
    `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`), one id and one timestamp."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return {
        "X-Vigil-Event": event_type,
        "X-Vigil-Delivery": delivery_id,
        "X-Vigil-Timestamp": str(timestamp),
        "X-Vigil-Signature": sign(secret=secret, timestamp=timestamp, body=body),
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": Webhook(secret.encode()).sign(delivery_id, moment, body),
    }


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
    address = parse_address(host)
    if address is None:
        return  # a name: resolved and checked when delivering (apps.notifications.delivery)
    why = refusal(address)  # apps/notifications/addresses.py: the IPv6 forms that embed IPv4 too
    if why and not (local and insecure_local_allowed()):
        raise ValidationError({"url": [f"Must not point at a private, loopback or reserved address: {why}."]})


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
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _facts(event: DomainEvent) -> dict:
    """What the event tells beside its object's new state, named as in EVENT_FACTS."""
    named = EVENT_FACTS.get(event.verb, {})
    facts = {name: event.data[key] for name, key in named.items() if key in event.data}
    if event.verb == "incident.transitioned" and "status" in event.changes:
        facts["previous_status"] = event.changes["status"][0]
    return facts


def _of_need_to_know_incident(event: DomainEvent) -> bool:
    """The event concerns an incident the tenant's receivers see as a summary only (or not at all)."""
    if event.incident_id is None:
        return False
    receiver = receiver_access(tenant_id=event.tenant_id)
    return not incident_visible(access=receiver, need=Need.FULL).filter(pk=event.incident_id).exists()


def event_data(event: DomainEvent, *, need_to_know: bool) -> dict:
    """The `data` of a webhook: one flat object, the event's object as the API shows it to a reader of the
    tenant (apps.core.representations: no internal fields, no confidential reporter) with `object` (its
    kind), `actor` (the person's id; null for the system or a confidential reporter), `changed` (the shown
    fields the event changed) and the event's facts. A need-to-know incident is its summary, without actor
    or facts (what belongs to it is not sent at all: webhook_on_event)."""
    shown = representation(event.target_type, event.target_id) or {"id": event.target_id}
    changed = [name.removesuffix("_id") for name in event.changes]
    data = {
        "object": event.target_type.partition(".")[2],
        **shown,
        "actor": None if need_to_know or event.actor_id is None else str(event.actor_id),
        "changed": [name for name in changed if name in shown and name != "id"],
        **({} if need_to_know else _facts(event)),
    }
    return _jsonable(data)


def webhook_on_event(event: DomainEvent) -> None:
    """Subscriber (NotificationsConfig.ready) for every verb that is a webhook type: one outbox message per
    active subscription of the event's tenant to it, in the event's transaction (delivered after commit; a
    rolled-back change sends nothing). The body is described only when someone subscribed. All of it in
    the tenant's own context, whoever acted: a granted outsider from another department sees neither its
    subscriptions nor its outbox, yet what they do is news to its receivers."""
    if event.tenant_id is None:
        return
    with activate(Access.system([event.tenant_id])):
        subscriptions = list(
            WebhookSubscription.unscoped.filter(
                tenant_id=event.tenant_id, active=True, events__contains=[event.verb]
            ).values_list("pk", "url")
        )
        if not subscriptions:
            return
        # A receiver reads a need-to-know incident as its summary (apps.response.selectors, Need.SUMMARY):
        # the incident's own events, never those of what belongs to it (evidence, obligations, actions …).
        need_to_know = _of_need_to_know_incident(event)
        if need_to_know and event.target_type != INCIDENT_LABEL:
            return
        envelope = {
            "type": event.verb,
            "created_at": timezone.now().isoformat(),
            "tenant": str(event.tenant_id),
            "data": event_data(event, need_to_know=need_to_know),
        }
        for subscription_id, url in subscriptions:
            outbox_enqueue(
                channel=OutboxChannel.WEBHOOK,
                recipient=url,
                tenant_id=event.tenant_id,
                subject=event.verb,
                payload={"subscription": str(subscription_id), "event": envelope},
            )


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
