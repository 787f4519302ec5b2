"""What a person receives: their in-app notifications through the API, and their e-mails as delivered by
the outbox (apps.notifications.delivery through Django's test mail backend), parsed as a mail client does."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default

from django.core import mail

from apps.notifications.delivery import outbox_deliver
from apps.notifications.models import OutboxMessage


def inbox(client, kind: str | None = None) -> list[dict]:
    """The caller's in-app notifications (GET /api/v1/notifications/), newest first."""
    response = client.get("/api/v1/notifications/", {"kind": kind} if kind else {})
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=default)


def delivered_to(user) -> list[EmailMessage]:
    """Deliver the person's pending outbox e-mails and return every e-mail they received, parsed."""
    for message_id in OutboxMessage.objects.filter(
        channel="email", recipient=user.email, status="pending"
    ).values_list("pk", flat=True):
        assert outbox_deliver(message_id=message_id).status == "delivered"
    return [parse(sent.message().as_bytes()) for sent in mail.outbox if user.email in sent.to]


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML alternatives of a multipart/alternative e-mail (both must be there)."""
    assert message.get_content_type() == "multipart/alternative", message.get_content_type()
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()
