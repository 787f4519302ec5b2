"""Repeated reads of the insights reports from the cache, invalidated by every change to their tenants.

A report (ISO 27001 evidence report, metrics) depends on its tenants' rows, its period and the clock. Each
tenant has a data version in the cache, replaced after the commit of every domain event of that tenant
(the services publish one for each change: apps.core.events; `*` for changes without a tenant); a
report's cache key is built from its kind, period and the versions of all its tenants, so a change in any
of them makes the next read compute afresh, at once. What changes with time alone (an action becoming
overdue) is at most INSIGHTS_CACHE_SECONDS old. INSIGHTS_CACHE_SECONDS=0 turns the cache off (the test
default). Versions are random, and set when missing, so an evicted version never brings an old result
back.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from apps.core.events import DomainEvent
from apps.insights.period import Period

ALL = "*"


def _version_key(tenant_id) -> str:
    return f"insights:version:{tenant_id}"


def cached(kind: str, *, tenant_ids: frozenset, period: Period, compute: Callable):
    seconds = getattr(settings, "INSIGHTS_CACHE_SECONDS", 0)
    if not seconds:
        return compute()
    keys = [_version_key(ALL), *sorted(_version_key(t) for t in tenant_ids)]
    versions = cache.get_many(keys)
    missing = {key: uuid.uuid4().hex for key in keys if key not in versions}
    for key, version in missing.items():
        if not cache.add(key, version, timeout=None):  # another process set it first: take theirs
            version = cache.get(key) or version
        versions[key] = version
    digest = hashlib.sha256(
        json.dumps([kind, period.as_dict(), [versions[key] for key in keys]]).encode()
    ).hexdigest()
    key = f"insights:{kind}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=seconds)
    return value


def invalidate(tenant_id=None) -> None:
    cache.set(_version_key(tenant_id or ALL), uuid.uuid4().hex, timeout=None)


def invalidate_on_commit(event: DomainEvent) -> None:
    """Event subscriber: the event's tenant has new data once its transaction commits."""
    if getattr(settings, "INSIGHTS_CACHE_SECONDS", 0):
        # robust: the change is committed; a cache that is down must not turn its answer into an error.
        transaction.on_commit(lambda: invalidate(event.tenant_id), robust=True)
