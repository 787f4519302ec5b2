"""E-mails about a person's own account, written to the outbox like every e-mail: the confirmation link of a
new address (apps/tenancy/email_verification.py), sent to that address, and a note to the current one that a
change was asked for. They are not notifications: nobody can switch them off in their preferences."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.core.events import DomainEvent
from apps.notifications.choices import OutboxChannel
from apps.notifications.emails import absolute_url
from apps.notifications.messaging import outbox_enqueue
from apps.tenancy.email_verification import LINK_MAX_AGE, email_verification_token

User = get_user_model()

CONFIRM_SUBJECT = "Confirm your e-mail address for Vigil"
CONFIRM_BODY = """Hello {name},

Somebody asked for {address} to become the e-mail address of the Vigil account {username}. Vigil
sends nothing to it, and single sign-on does not use it, until you confirm it here (the link works for
{days} days):

{link}

If you did not ask for this, ignore this e-mail: nothing changes.
"""
NOTICE_SUBJECT = "Your Vigil e-mail address is about to change"
NOTICE_BODY = """Hello {name},

Somebody asked for the e-mail address of the Vigil account {username} to become another address. It
changes only if that address's owner confirms it. If this was not you, tell your administrator.
"""


def send_email_confirmation(event: DomainEvent) -> None:
    user = User.objects.filter(pk=event.target_id).first()
    if user is None or not user.pending_email:
        return
    token = email_verification_token(user=user, email=user.pending_email)
    names = {"name": user.get_full_name() or user.get_username(), "username": user.get_username()}
    outbox_enqueue(
        channel=OutboxChannel.EMAIL,
        recipient=user.pending_email,
        subject=CONFIRM_SUBJECT,
        body=CONFIRM_BODY.format(
            **names,
            address=user.pending_email,
            days=LINK_MAX_AGE.days,
            link=absolute_url(f"{reverse('web:email-confirm')}?{urlencode({'t': token})}"),
        ),
    )
    if user.email:
        outbox_enqueue(
            channel=OutboxChannel.EMAIL,
            recipient=user.email,
            subject=NOTICE_SUBJECT,
            body=NOTICE_BODY.format(**names),
        )
