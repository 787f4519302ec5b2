"""Brute-force protection of the API's token endpoint (`POST /api/v1/auth/token/`).

Failed sign-ins are counted per account (the username, from any address) and per address (any username):
ACCOUNT_FAILURES failures of one account, or ADDRESS_FAILURES from one address, within WINDOW lock that
account (resp. address) on this endpoint for LOCK_DURATION; a locked caller gets 429 with a message that
says so and a Retry-After header, and its password is not even checked. A successful sign-in forgets the
account's failures.

The web sign-in keeps its own lock per (username, address) in the database (apps/web/lockout.py); that
model lives in apps/web, above tenancy, so the API cannot use it. The counters here live in the cache
(Redis): atomic increments shared by every web process, expiring by themselves. The account threshold is
higher than the address one, so that somebody guessing one account from many addresses is stopped while
a single address cannot lock a victim out for long."""

from __future__ import annotations

import hashlib
import math
import time
from datetime import timedelta

from django.core.cache import cache

ACCOUNT_FAILURES = 10
ADDRESS_FAILURES = 20
WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256((value or "").strip().lower().encode()).hexdigest()[:32]
    return f"vigil:signin:{kind}:{digest}"


def _pairs(username: str, ip: str) -> list[tuple[str, int]]:
    return [
        (_key("account", username), ACCOUNT_FAILURES),
        (_key("address", ip or "unknown"), ADDRESS_FAILURES),
    ]


def locked_for(*, username: str, ip: str) -> int | None:
    """Seconds left of the longest lock on this account or address, or None when neither is locked."""
    return _locked(_pairs(username, ip))


def _locked(pairs) -> int | None:
    now = time.time()
    ends = [cache.get(f"{key}:locked") for key, _ in pairs]
    left = [end - now for end in ends if end is not None and end > now]
    return max(1, math.ceil(max(left))) if left else None


def account_locked_for(*, username: str) -> int | None:
    """The account's lock alone: a wrong current password (changing one's own password or e-mail, which an
    API token may ask for without any address of ours to count) counts against the account like a failed
    sign-in, so a stolen token cannot guess the password behind it."""
    return _locked(_pairs(username, "")[:1])


def account_failed(*, username: str) -> None:
    _count(_pairs(username, "")[:1])


def signin_failed(*, username: str, ip: str) -> None:
    """Count a failure of the account and of the address; reaching a threshold locks it."""
    _count(_pairs(username, ip))


def _count(pairs) -> None:
    for key, threshold in pairs:
        cache.add(key, 0, timeout=int(WINDOW.total_seconds()))
        try:
            failures = cache.incr(key)
        except ValueError:  # the window expired between add and incr
            cache.add(key, 1, timeout=int(WINDOW.total_seconds()))
            failures = 1
        if failures >= threshold:
            ends = time.time() + LOCK_DURATION.total_seconds()
            cache.set(f"{key}:locked", ends, timeout=int(LOCK_DURATION.total_seconds()))
            cache.delete(key)


def signin_succeeded(*, username: str) -> None:
    cache.delete(_key("account", username))
