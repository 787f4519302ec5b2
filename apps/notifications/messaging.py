"""The one way to tell people something: `notify()` writes in-app notifications and outbox e-mails in the
caller's transaction; `outbox_enqueue()` writes any outbound message. Delivery happens after commit."""

import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction

from apps.notifications.choices import OutboxChannel
from apps.notifications.models import Notification, OutboxMessage

logger = logging.getLogger(__name__)


def _schedule_delivery(message_id) -> None:
    from apps.notifications.tasks import outbox_deliver  # the task module imports this one

    # After commit only: a rolled-back change sends nothing. If the broker is down, the relay's periodic
    # sweep picks the message up later.
    transaction.on_commit(lambda: _enqueue_quietly(outbox_deliver, message_id))


def _enqueue_quietly(task, message_id) -> None:
    try:
        task.delay(str(message_id))
    except Exception:  # broker unreachable: the message stays pending for the relay sweep
        logger.warning("outbox: broker unreachable, %s left to the relay", message_id)


def outbox_enqueue(
    *,
    channel: str,
    recipient: str,
    tenant_id=None,
    subject: str = "",
    body: str = "",
    payload: dict | None = None,
    notification: Notification | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Write one outbound message (None when its dedupe key was already written)."""
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                tenant_id=tenant_id,
                channel=channel,
                recipient=recipient,
                subject=subject[:300],
                body=body,
                payload=payload or {},
                notification=notification,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        if dedupe_key is None:
            raise
        return None
    _schedule_delivery(message.pk)
    return message


def notify(
    *,
    tenant_id,
    users: Iterable,
    kind: str,
    subject: str,
    body: str = "",
    incident_id=None,
    link: str = "",
    critical: bool = False,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """Tell each user: an in-app notification, and an e-mail where the user has an address and wants
    them (critical ones cannot be silenced). With `dedupe_key`, each user is told at most once."""
    from apps.notifications.preferences import wants  # preferences build on the notification model

    created = []
    for user in users:
        # Each preference is read once per person (critical messages ignore them).
        email = critical or wants(user=user, kind=kind, channel="email")
        if not (email or wants(user=user, kind=kind, channel="in_app")):
            continue  # silenced on every channel
        try:
            with transaction.atomic():
                notification = Notification.unscoped.create(
                    tenant_id=tenant_id,
                    user=user,
                    kind=kind,
                    subject=subject[:300],
                    body=body,
                    incident_id=incident_id,
                    link=link,
                    critical=critical,
                    dedupe_key=dedupe_key,
                )
        except IntegrityError:
            if dedupe_key is None:
                raise
            continue  # already told
        created.append(notification)
        if user.email and email:
            outbox_enqueue(
                channel=OutboxChannel.EMAIL,
                recipient=user.email,
                tenant_id=tenant_id,
                subject=subject,
                body=body,
                notification=notification,
                dedupe_key=f"email:{notification.pk}",
            )
    return created
