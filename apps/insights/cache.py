"""Repeated reads of the insights reports from the cache, invalidated by every change to their tenants.

A report (ISO 27001 evidence report, metrics) depends on its tenants' rows, its period and the clock. Each
tenant has a data version in the cache, replaced after the commit of every domain event of that tenant
(the services publish one for each change: apps.core.events; `*` for changes without a tenant); a
report's cache key is built from its kind, period and the versions of all its tenants, so a change in any
of them makes the next read compute afresh, at once. What changes with time alone (an action becoming
overdue) is at most INSIGHTS_CACHE_SECONDS old; what depends on the period's rows alone is kept until they
change. A report over many tenants can be assembled from per-tenant parts, each under its own tenant's
version (cached_parts): after a change in one tenant only that part is computed again.
INSIGHTS_CACHE_SECONDS=0 turns the cache off (the test default). Versions are random, and set when
missing, so an evicted version never brings an old result back.
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
# Values holding only figures of their period's rows (nothing that moves with the clock alone) live until
# their tenants change; the day bounds how long superseded ones linger in Redis.
PERIOD_FIGURES_SECONDS = 24 * 3600


def _version_key(tenant_id) -> str:
    return f"insights:version:{tenant_id}"


def _versions(tenants: list) -> dict:
    """{tenant id or ALL: its current data version}, setting the missing ones."""
    keys = {tenant: _version_key(tenant) for tenant in tenants}
    found = cache.get_many(list(keys.values()))
    versions = {}
    for tenant, key in keys.items():
        version = found.get(key)
        if version is None:
            version = uuid.uuid4().hex
            if not cache.add(key, version, timeout=None):  # another process set it first: take theirs
                version = cache.get(key) or version
        versions[tenant] = version
    return versions


def cached(
    kind: str, *, tenant_ids: frozenset, period: Period, compute: Callable, timeout: int | None = None
):
    """`compute()`, from the cache while none of the tenants changed: for INSIGHTS_CACHE_SECONDS, or for
    `timeout` seconds when the value holds nothing that moves with the clock."""
    seconds = getattr(settings, "INSIGHTS_CACHE_SECONDS", 0)
    if not seconds:
        return compute()
    ordered = [ALL, *sorted(tenant_ids, key=str)]
    versions = _versions(ordered)
    digest = hashlib.sha256(
        json.dumps([kind, period.as_dict(), [versions[tenant] for tenant in ordered]]).encode()
    ).hexdigest()
    key = f"insights:{kind}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=timeout or seconds)
    return value


def cached_parts(kind: str, *, tenant_ids: frozenset, period: Period, compute: Callable) -> dict:
    """{tenant id (str): part}: one part per tenant, each cached under that tenant's own version, so that a
    report over many tenants computes again only the parts of the tenants that changed. `compute(tenant_ids)`
    returns the parts of the tenants asked for (every one of them), in one go."""
    if not getattr(settings, "INSIGHTS_CACHE_SECONDS", 0):
        return compute(tenant_ids)
    versions = _versions([ALL, *tenant_ids])
    keys = {
        str(tenant_id): "insights:{}:part:{}".format(
            kind,
            hashlib.sha256(
                json.dumps([period.as_dict(), str(tenant_id), versions[ALL], versions[tenant_id]]).encode()
            ).hexdigest(),
        )
        for tenant_id in tenant_ids
    }
    found = cache.get_many(list(keys.values()))
    parts = {tenant: found[key] for tenant, key in keys.items() if key in found}
    missing = frozenset(t for t in tenant_ids if str(t) not in parts)
    if missing:
        computed = compute(missing)
        cache.set_many(
            {keys[tenant]: part for tenant, part in computed.items()}, timeout=PERIOD_FIGURES_SECONDS
        )
        parts |= computed
    return parts


def invalidate(tenant_id=None) -> None:
    cache.set(_version_key(tenant_id or ALL), uuid.uuid4().hex, timeout=None)


def invalidate_on_commit(event: DomainEvent) -> None:
    """Event subscriber: the event's tenant has new data once its transaction commits."""
    if getattr(settings, "INSIGHTS_CACHE_SECONDS", 0):
        # robust: the change is committed; a cache that is down must not turn its answer into an error.
        transaction.on_commit(lambda: invalidate(event.tenant_id), robust=True)
