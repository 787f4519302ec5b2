"""A changed e-mail address counts only once its owner proved it: the new address waits in
`User.pending_email`, a signed link goes to it (apps/notifications/account_emails.py writes the e-mail to the
outbox when `user.email_change_requested` is published), and opening it (the web page
`/account/email/confirm/<token>/`) moves it into `User.email`, which notifications and single sign-on's
linking by e-mail read. Addresses are unique among active people, whatever their case (a database
constraint on accounts.User, and the clear 400 below before it is reached).

The link is signed with SECRET_KEY (nothing to store), names the person and the address, and expires after
LINK_MAX_AGE; once the address is confirmed or replaced by another request, its link no longer works."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.events import publish

User = get_user_model()

SALT = "vigil.tenancy.email-verification"
LINK_MAX_AGE = timedelta(days=3)
INVALID_LINK = (
    "This confirmation link is not valid any more: it expired, the address was confirmed already, or a newer "
    "address was asked for. Ask for the change again on your Account page."
)


def email_check_free(*, email: str, user=None) -> None:
    """400 naming `email` when another active person uses the address (any case)."""
    if not email:
        return
    taken = User.objects.filter(email__iexact=email, is_active=True)
    if user is not None and user.pk is not None:
        taken = taken.exclude(pk=user.pk)
    if taken.exists():
        raise ValidationError({"email": ["Another active person already uses this e-mail address."]})


def email_verification_token(*, user, email: str) -> str:
    return signing.dumps({"user": str(user.pk), "email": email.lower()}, salt=SALT)


def user_email_change_request(*, actor, user, email: str):
    """Keep `email` as the person's pending address and have the confirmation link sent to it. The caller
    holds the user's row (select_for_update) inside its transaction."""
    email_check_free(email=email, user=user)
    before = user.pending_email
    user.pending_email = email
    user.save(update_fields=["pending_email"])
    publish(
        verb="user.email_change_requested",
        actor=actor,
        target=user,
        changes={"pending_email": [before or None, email]},
        data={"current_email": user.email},
    )
    return user


@transaction.atomic
def user_email_confirm(*, actor, token: str):
    """The link's address becomes the person's e-mail."""
    try:
        value = signing.loads(token, salt=SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:
        raise ValidationError({"token": [INVALID_LINK]}) from None
    user = User.objects.select_for_update().filter(pk=value.get("user")).first()
    if user is None or not user.pending_email or user.pending_email.lower() != value.get("email"):
        raise ValidationError({"token": [INVALID_LINK]})
    email_check_free(email=user.pending_email, user=user)
    before = user.email
    user.email, user.pending_email = user.pending_email, ""
    user.save(update_fields=["email", "pending_email"])
    publish(
        verb="user.email_verified",
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        target=user,
        changes={"email": [before or None, user.email]},
    )
    return user
