"""The one way to tell people something: `notify()` writes in-app notifications and outbox e-mails (text
and HTML, apps.notifications.emails) in the caller's transaction; `outbox_enqueue()` writes any outbound
message. Delivery happens after commit."""

import logging
from collections.abc import Callable, Iterable, Sequence

from django.db import IntegrityError, transaction

from apps.notifications.choices import NotificationKind, OutboxChannel
from apps.notifications.emails import render_email
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
    html_body: str = "",
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
                html_body=html_body,
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


# kind -> the functions that produce notifications of it (declared with @emits; a meta-test checks that
# every kind a person can choose in their preferences has one, and a journey test delivering it).
EMITTERS: dict[str, list[str]] = {}


def emits(*kinds: str) -> Callable[[Callable], Callable]:
    """Declare that the decorated function tells people notifications of `kinds` (through notify())."""

    def register(function: Callable) -> Callable:
        name = f"{function.__module__}.{function.__qualname__}"
        for kind in kinds:
            if name not in EMITTERS.setdefault(kind, []):
                EMITTERS[kind].append(name)
        return function

    return register


def notify(
    *,
    tenant_id,
    users: Iterable,
    kind: str,
    subject: str,
    body: str = "",
    ask: str = "",
    facts: Sequence[tuple[str, str]] = (),
    incident_id=None,
    link: str = "",
    critical: bool = False,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """Tell each user what happened (`body`), what is asked of them (`ask`) and the `facts` (label, value)
    every one of them may read: in-app where they want it, and by e-mail (text and HTML, `link` absolute)
    where they have an address and want it; critical ones cannot be silenced. With `dedupe_key`, each user
    is told at most once. Returns the in-app notifications written."""
    from apps.notifications.preferences import wants  # preferences build on the notification model

    if kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    text = "\n\n".join(part for part in (body, ask) if part)
    email = None
    created = []
    for user in users:
        # Each preference is read once per person (critical messages ignore them).
        by_email = bool(user.email) and (critical or wants(user=user, kind=kind, channel="email"))
        in_app = critical or wants(user=user, kind=kind, channel="in_app")
        notification = None
        if in_app:
            notification = _notification(
                tenant_id=tenant_id,
                user=user,
                kind=kind,
                subject=subject,
                body=text,
                incident_id=incident_id,
                link=link,
                critical=critical,
                dedupe_key=dedupe_key,
            )
            if notification is None:
                continue  # already told
            created.append(notification)
        if by_email:
            email = email or render_email(
                kind=kind, subject=subject, body=body, ask=ask, facts=facts, link=link
            )
            outbox_enqueue(
                channel=OutboxChannel.EMAIL,
                recipient=user.email,
                tenant_id=tenant_id,
                subject=subject,
                body=email.text,
                html_body=email.html,
                notification=notification,
                dedupe_key=_email_dedupe_key(notification, user=user, dedupe_key=dedupe_key),
            )
    return created


def _notification(*, user, subject: str, dedupe_key: str | None, **fields) -> Notification | None:
    """Write one in-app notification (None when this user was already told under `dedupe_key`)."""
    try:
        with transaction.atomic():
            return Notification.unscoped.create(
                user=user, subject=subject[:300], dedupe_key=dedupe_key, **fields
            )
    except IntegrityError:
        if dedupe_key is None:
            raise
        return None


def _email_dedupe_key(notification: Notification | None, *, user, dedupe_key: str | None) -> str | None:
    # With an in-app notification the e-mail is its copy; without (in-app silenced) the person and the
    # message's own key make it once-only, as the notification's unique (user, dedupe_key) would.
    if notification is not None:
        return f"email:{notification.pk}"
    return f"email:{user.pk}:{dedupe_key}"[:200] if dedupe_key else None
