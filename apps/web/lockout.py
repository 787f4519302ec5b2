"""Sign-in lockout of the web sign-in and the admin site's login (issue 8, "Sign-in and sessions"), kept in
the database (SignInThrottle), so a lock survives a cache flush and every failure and lock is on the audit
trail (platform chain). Wrong second-factor codes count exactly like wrong passwords.

Two rules, one row each:

- per account and address: LOCKOUT_FAILURES failures of one username from one address within
  LOCKOUT_WINDOW lock that pair for LOCKOUT_DURATION. A guesser is stopped, while the real person signing
  in from elsewhere is not locked out by somebody else's guessing;
- per address: ADDRESS_FAILURES failures from one address, whatever the usernames, within LOCKOUT_WINDOW
  lock that address for LOCKOUT_DURATION (password spraying). Its row has the username ANY_USERNAME,
  which no sign-in uses (the form requires a username).

A successful sign-in forgets its pair's failures, not the address's: one known account must not let a
sprayer start over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.core.events import publish
from apps.web.models import SignInThrottle

LOCKOUT_FAILURES = 5
ADDRESS_FAILURES = 20
LOCKOUT_WINDOW = timedelta(minutes=15)
LOCKOUT_DURATION = timedelta(minutes=15)
ANY_USERNAME = ""


@dataclass(frozen=True)
class Lock:
    until: datetime
    whole_address: bool  # True: every username from the address; False: this username from it


def _key(username: str) -> str:
    return (username or "").strip().lower()[:150]


def lock_for(*, username: str, ip: str) -> Lock | None:
    """The lock in force on this username from this address (the later-ending one), or None."""
    now = timezone.now()
    rows = SignInThrottle.objects.filter(
        username__in={_key(username), ANY_USERNAME}, ip=ip or "", locked_until__gt=now
    ).values_list("username", "locked_until")
    locks = [Lock(until=until, whole_address=name == ANY_USERNAME) for name, until in rows]
    return max(locks, key=lambda lock: lock.until, default=None)


def locked_until(*, username: str, ip: str):
    """When the lock on this username from this address ends, or None when there is none."""
    lock = lock_for(username=username, ip=ip)
    return lock.until if lock else None


def _count(*, username: str, ip: str, threshold: int, now) -> tuple[SignInThrottle, bool]:
    throttle, _ = SignInThrottle.objects.select_for_update().get_or_create(
        username=username, ip=ip, defaults={"window_started_at": now}
    )
    if throttle.window_started_at <= now - LOCKOUT_WINDOW:
        throttle.failures, throttle.window_started_at = 0, now
    throttle.failures += 1
    locks = throttle.failures >= threshold and not (throttle.locked_until and throttle.locked_until > now)
    if locks:
        throttle.locked_until = now + LOCKOUT_DURATION
        throttle.failures, throttle.window_started_at = 0, now
    throttle.save()
    return throttle, locks


@transaction.atomic
def signin_failed(*, username: str, ip: str, audited: bool = True) -> Lock | None:
    """Count a failure of the pair and of the address; reaching a threshold locks it. The failure is
    audited as `auth.login_failed` unless the caller recorded it already (`audited=False`: a wrong second
    factor code, `auth.2fa_failed`); a new lock always as `auth.locked`. Returns the lock now in force."""
    now = timezone.now()
    ip = ip or ""
    pair, pair_locks = _count(username=_key(username), ip=ip, threshold=LOCKOUT_FAILURES, now=now)
    address, address_locks = _count(username=ANY_USERNAME, ip=ip, threshold=ADDRESS_FAILURES, now=now)
    data = {"username": pair.username, "ip": pair.ip}
    if audited:
        publish(verb="auth.login_failed", actor=None, target=pair, data=data)
    for throttle, locks, scope in ((pair, pair_locks, "account"), (address, address_locks, "address")):
        if locks:
            publish(
                verb="auth.locked",
                actor=None,
                target=throttle,
                data={**data, "scope": scope, "locked_until": throttle.locked_until.isoformat()},
            )
    return lock_for(username=username, ip=ip)


def signin_succeeded(*, username: str, ip: str) -> None:
    """A successful sign-in forgets the pair's earlier failures (the address keeps its count)."""
    SignInThrottle.objects.filter(username=_key(username), ip=ip or "").exclude(
        username=ANY_USERNAME
    ).delete()


def lock_message(lock: Lock) -> str:
    """The sentence shown to the person: what is locked and when to try again (local time)."""
    from django.utils.translation import gettext

    until = timezone.localtime(lock.until).strftime("%H:%M %Z")
    if lock.whole_address:
        return gettext("Too many failed sign-ins from your address. Try again after %(until)s.") % {
            "until": until
        }
    return gettext(
        "Too many failed sign-ins for this account from your address. Try again after %(until)s."
    ) % {"until": until}
