"""Sign-in lockout: LOCKOUT_FAILURES failed sign-ins of one username from one address within
LOCKOUT_WINDOW lock that pair for LOCKOUT_DURATION. Kept in the database (SignInThrottle), so a lock
survives a cache flush and every failure and lock is on the audit trail (platform chain).

Keyed by username and address: a guesser is stopped, while the real person signing in from elsewhere is
not locked out by somebody else's guessing."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.core.events import publish
from apps.web.models import SignInThrottle

LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
LOCKOUT_DURATION = timedelta(minutes=15)


def _key(username: str) -> str:
    return (username or "").strip().lower()[:150]


def locked_until(*, username: str, ip: str):
    """When the pair's lock ends, or None when it is not locked."""
    now = timezone.now()
    until = (
        SignInThrottle.objects.filter(username=_key(username), ip=ip or "", locked_until__gt=now)
        .values_list("locked_until", flat=True)
        .first()
    )
    return until


@transaction.atomic
def signin_failed(*, username: str, ip: str) -> SignInThrottle:
    """Count a failure; the LOCKOUT_FAILURES-th within the window locks the pair. Both are audited."""
    now = timezone.now()
    throttle, _ = SignInThrottle.objects.select_for_update().get_or_create(
        username=_key(username), ip=ip or "", defaults={"window_started_at": now}
    )
    if throttle.window_started_at <= now - LOCKOUT_WINDOW:
        throttle.failures, throttle.window_started_at = 0, now
    throttle.failures += 1
    locks = throttle.failures >= LOCKOUT_FAILURES and not (
        throttle.locked_until and throttle.locked_until > now
    )
    if locks:
        throttle.locked_until = now + LOCKOUT_DURATION
        throttle.failures, throttle.window_started_at = 0, now
    throttle.save()
    data = {"username": throttle.username, "ip": throttle.ip}
    publish(verb="auth.login_failed", actor=None, target=throttle, data=data)
    if locks:
        publish(
            verb="auth.locked",
            actor=None,
            target=throttle,
            data={**data, "locked_until": throttle.locked_until.isoformat()},
        )
    return throttle


def signin_succeeded(*, username: str, ip: str) -> None:
    """A successful sign-in forgets the pair's earlier failures."""
    SignInThrottle.objects.filter(username=_key(username), ip=ip or "").delete()
