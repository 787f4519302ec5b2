"""Delivering the outbox (design rules 7 and 8): e-mail through Django's e-mail backend, webhooks over HTTPS.

`outbox_deliver` claims one pending message (SELECT … FOR UPDATE SKIP LOCKED plus the status check), sends
it while holding the row, and records the outcome in the same transaction, so a redelivered task never sends
a delivered message twice and two workers never send it at once. If the worker dies mid-send the
transaction rolls back and the relay tries again: delivery is at least once, and receivers dedupe by the
stable ids (the e-mail's Message-ID, the webhook's X-Vigil-Delivery).

`outbox_relay` (beat, every minute) finds due pending messages with one query over the partial index
notif_outbox_due, in batches with SKIP LOCKED, leases them for a few minutes and enqueues a delivery task
for each: this is what delivers messages written while the broker was down.
"""

from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from apps.notifications.addresses import AddressRefused, pinned_connection, resolve_destination
from apps.notifications.choices import OutboxChannel, OutboxStatus
from apps.notifications.models import OutboxMessage, WebhookDelivery, WebhookSubscription
from apps.notifications.webhooks import LOCAL_HOSTS, insecure_local_allowed, signature_headers, webhook_body
from apps.tenancy.access import Access
from apps.tenancy.context import activate

logger = logging.getLogger(__name__)

USER_AGENT = "Vigil-Webhooks/1"
MAX_ERROR_LENGTH = 2000


class DeliveryFailed(Exception):
    """This attempt failed; the message is retried with backoff."""


class GiveUp(Exception):
    """The message can never be delivered (its subscription is gone): dead at once."""


@dataclass(frozen=True)
class Outcome:
    status: str  # delivered, retry, dead, skipped
    attempts: int = 0
    error: str = ""


# --------------------------------------------------------------------------------------------------
# Retry policy
# --------------------------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """Delay after the n-th failed attempt: base × 2^(n-1), capped (1 min, 2, 4 … 1 h by default)."""
    exponent = min(max(attempts - 1, 0), 30)
    seconds = settings.OUTBOX_BACKOFF_BASE_SECONDS * 2**exponent
    return timedelta(seconds=min(seconds, settings.OUTBOX_BACKOFF_MAX_SECONDS))


def _exhausted(message: OutboxMessage, *, now) -> bool:
    if message.channel == OutboxChannel.WEBHOOK:
        return now - message.created_at >= timedelta(hours=settings.WEBHOOK_RETRY_WINDOW_HOURS)
    return message.attempts >= settings.OUTBOX_EMAIL_MAX_ATTEMPTS


# --------------------------------------------------------------------------------------------------
# One message
# --------------------------------------------------------------------------------------------------


def outbox_deliver(*, message_id) -> Outcome:
    """Deliver one message, once. Anything but a pending, unlocked message is left alone."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxStatus.PENDING)
            .first()
        )
        if message is None:
            return Outcome("skipped")  # delivered, dead, unknown, or being sent by another worker now
        message.attempts += 1
        now = timezone.now()
        try:
            _send(message)
        except GiveUp as exc:
            message.status = OutboxStatus.DEAD
            message.last_error = failure_text(exc)
        except Exception as exc:  # any failure of the far side is retried, never lost
            message.last_error = failure_text(exc)
            if _exhausted(message, now=now):
                message.status = OutboxStatus.DEAD
            else:
                message.next_attempt_at = now + backoff(message.attempts)
            logger.warning(
                "outbox: %s attempt %s failed: %s", message.pk, message.attempts, message.last_error
            )
        else:
            message.status = OutboxStatus.DELIVERED
            message.delivered_at = timezone.now()
            message.last_error = ""
        message.save(update_fields=["status", "attempts", "next_attempt_at", "last_error", "delivered_at"])
        outcome = {
            OutboxStatus.DELIVERED: "delivered",
            OutboxStatus.DEAD: "dead",
            OutboxStatus.PENDING: "retry",
        }[message.status]
        return Outcome(outcome, attempts=message.attempts, error=message.last_error)


def failure_text(exc: BaseException) -> str:
    """`<exception class>: <message>`, e.g. `SMTPNotSupportedError: STARTTLS extension not supported by
    server.`: the class says what kind of failure it was (the admin lists it, /readyz reports it alone)."""
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]


def failure_class(last_error: str) -> str:
    """The exception class of a `last_error` written by failure_text."""
    return last_error.partition(":")[0]


def _send(message: OutboxMessage) -> None:
    # The message's own tenant context (none for platform messages): what sending reads and logs (the
    # subscription, the delivery log) is that tenant's, under row-level security like everything else.
    tenants = [] if message.tenant_id is None else [message.tenant_id]
    with activate(Access.system(tenants)):
        if message.channel == OutboxChannel.EMAIL:
            send_email(message)
        elif message.channel == OutboxChannel.WEBHOOK:
            send_webhook(message)
        else:
            raise GiveUp(f"Unknown channel {message.channel!r}.")


def message_id_header(message: OutboxMessage) -> str:
    """A Message-ID derived from the outbox id: every retry of one message carries the same one."""
    return f"<outbox.{message.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


def send_email(message: OutboxMessage) -> None:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"Message-ID": message_id_header(message), "X-Vigil-Delivery": str(message.pk)},
    )
    if message.html_body:  # notification e-mails: multipart/alternative, text first
        email.attach_alternative(message.html_body, "text/html")
    email.send(fail_silently=False)


def _post(url: str, *, body: bytes, headers: dict[str, str]) -> http.client.HTTPResponse:
    """POST to the subscription's URL on a connection to an address checked once (apps/notifications/
    addresses.py: no second DNS resolution); loopback only where settings allow plain-http local webhooks.
    A redirect is an answer like any other (a failed delivery), never a second request."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise DeliveryFailed(f"Refused: {url!r} is not an http(s) URL.")
    local = host in LOCAL_HOSTS and insecure_local_allowed()
    if parts.scheme == "http" and not local:
        raise DeliveryFailed("Refused: plain http:// is only for this machine in development.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve_destination(host, port, allow_loopback=local)
    except AddressRefused as exc:
        raise DeliveryFailed(str(exc)) from None
    connection = pinned_connection(
        scheme=parts.scheme,
        host=host,
        port=port,
        addresses=addresses,
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
    )
    path = parts.path or "/"
    try:
        connection.request(
            "POST", f"{path}?{parts.query}" if parts.query else path, body=body, headers=headers
        )
        response = connection.getresponse()
        response.read(65536)
    finally:  # a timeout or TLS failure must not leave the socket open
        connection.close()
    return response


def unix_now() -> int:
    return int(time.time())


def send_webhook(message: OutboxMessage) -> None:
    """POST the signed payload; 2xx is delivered. Every attempt is logged in WebhookDelivery."""
    subscription = WebhookSubscription.unscoped.filter(pk=message.payload.get("subscription")).first()
    if subscription is None:
        raise GiveUp("The webhook subscription was deleted.")
    if not subscription.active:
        raise GiveUp("The webhook subscription is inactive.")
    event_type = message.payload["event"]["type"]
    body = webhook_body(message)
    timestamp = unix_now()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signature_headers(
            secret=subscription.secret,
            delivery_id=str(message.pk),
            event_type=event_type,
            timestamp=timestamp,
            body=body,
        ),
    }
    status_code, error = None, ""
    started = time.monotonic()
    try:
        response = _post(subscription.url, body=body, headers=headers)
        status_code = response.status
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code} {response.reason}"
    except DeliveryFailed as exc:
        error = str(exc)
    except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts, refused, TLS, bad answers
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    WebhookDelivery.unscoped.create(
        tenant_id=subscription.tenant_id,
        subscription=subscription,
        message=message,
        event_type=event_type,
        attempt=message.attempts,
        status_code=status_code,
        ok=ok,
        error=error[:MAX_ERROR_LENGTH],
        duration_ms=duration_ms,
    )
    if not ok:
        raise DeliveryFailed(error or f"HTTP {status_code}")


# --------------------------------------------------------------------------------------------------
# The relay
# --------------------------------------------------------------------------------------------------


def due_messages(*, now, limit: int):
    """Due pending messages, oldest due first: the partial index notif_outbox_due answers it."""
    return (
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)[:limit]
    )


def outbox_relay(*, enqueue: Callable[[object], object], batch_size: int, max_batches: int) -> int:
    """Enqueue a delivery task for every due message. Each batch is leased (next_attempt_at moved ahead by
    OUTBOX_RELAY_LEASE_SECONDS) before its tasks are sent, so the next run does not enqueue them again
    while they wait in the queue; if the broker fails mid-batch the unsent rest is due again at once."""
    enqueued = 0
    for _ in range(max_batches):
        now = timezone.now()
        with transaction.atomic():
            ids = list(due_messages(now=now, limit=batch_size))
            if ids:
                lease = now + timedelta(seconds=settings.OUTBOX_RELAY_LEASE_SECONDS)
                OutboxMessage.objects.filter(pk__in=ids).update(next_attempt_at=lease)
        # After commit: a task that starts at once must find the row unlocked.
        for position, message_id in enumerate(ids):
            try:
                enqueue(message_id)
            except Exception:  # broker down: leave the rest due for the next run
                OutboxMessage.objects.filter(
                    pk__in=ids[position:], status=OutboxStatus.PENDING, next_attempt_at=lease
                ).update(next_attempt_at=now)
                logger.warning("outbox relay: broker unreachable, %s messages left due", len(ids) - position)
                return enqueued
            enqueued += 1
        if len(ids) < batch_size:
            break
    return enqueued
