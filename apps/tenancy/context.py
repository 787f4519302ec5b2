"""The tenant-scoping choke point.

`activate()` is the one function that sets which tenants the current unit of work may read. It is
entered only by the API base view, the web view mixin, the admin base class, the Celery base task and
explicit system jobs. Tenant-owned models' default manager reads it and fails closed without it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.tenancy.access import Access


class TenantContextMissing(RuntimeError):
    """A tenant-owned table was queried outside any tenant context: a bug, never a user error."""


@dataclass(frozen=True)
class TenantContext:
    access: Access
    tenant_ids: frozenset  # the tenants this unit of work reads: the access' tenants, maybe narrowed

    @property
    def narrowed(self) -> bool:
        return self.tenant_ids != self.access.tenant_ids


_current: ContextVar[TenantContext | None] = ContextVar("vigil_tenant_context", default=None)


@contextmanager
def activate(access: Access, tenant_ids: Iterable | None = None) -> Iterator[TenantContext]:
    ids = access.tenant_ids if tenant_ids is None else frozenset(tenant_ids) & access.tenant_ids
    context = TenantContext(access=access, tenant_ids=frozenset(ids))
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def current_context() -> TenantContext:
    context = _current.get()
    if context is None:
        raise TenantContextMissing("No tenant context is active: enter apps.tenancy.context.activate() first")
    return context


def current_or_none() -> TenantContext | None:
    return _current.get()
