"""The tenant-scoping choke point.

`activate()` is the one function that sets which tenants the current unit of work may read. It is
entered only by the API base view, the web view mixin, the admin base class, the Celery base task and
explicit system jobs. Tenant-owned models' default manager reads it and fails closed without it, and it
writes the same tenants (and the acting person) into the database session, where the row-level security
policies read them (apps.tenancy.rls): the second wall, for a query that forgot the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.signals import connection_created

if TYPE_CHECKING:
    from apps.tenancy.access import Access


T = TypeVar("T")

# The separate connection of the few system jobs that must cross tenants (the reminder scanners' claims,
# the evidence integrity sweep's walk): a role with BYPASSRLS (settings, "Database roles"). They only find
# work there; each item is then handled on the app's connection inside its own tenant's context.
SYSTEM_DATABASE = "system"


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
        _write_session(context)
        yield context
    finally:
        _current.reset(token)
        _write_session(_current.get(), on_exit=True)


def current_context() -> TenantContext:
    context = _current.get()
    if context is None:
        raise TenantContextMissing("No tenant context is active: enter apps.tenancy.context.activate() first")
    return context


def current_or_none() -> TenantContext | None:
    return _current.get()


def iterate_within(context: TenantContext, items: Iterable[T]) -> Iterator[T]:
    """Yield `items`, each produced with `context` active again: for a response body that streams after
    the request's own context has closed (a streamed export reads its rows then, and outside every context
    the database shows nothing). Each step enters and leaves the context, so nothing leaks between yields."""
    iterator = iter(items)
    while True:
        with activate(context.access, context.tenant_ids):
            try:
                item = next(iterator)
            except StopIteration:
                return
        yield item


# --------------------------------------------------------------------------------------------------
# The database side (row-level security)
# --------------------------------------------------------------------------------------------------

_SET_SESSION = (
    "SELECT set_config('vigil.tenant_ids', %s, false), set_config('vigil.user_id', %s, false), "
    "set_config('vigil.platform', %s, false)"
)


def _outside_any_context() -> tuple[frozenset, object | None, bool]:
    """What the database session holds outside every context: no tenant, no person, not the platform's
    rows. (The test suite's own setup and assertions read across tenants; tests/conftest.py widens this
    for them, never for the app's code.)"""
    return frozenset(), None, False


outside_any_context = _outside_any_context


def _session_values(context: TenantContext | None) -> list[str]:
    if context is not None:
        tenant_ids, user_id = context.tenant_ids, context.access.user_id
        platform = context.access.is_superuser  # the platform's own rows (its audit chain): rls.py
    else:
        tenant_ids, user_id, platform = outside_any_context()
    return [
        ",".join(sorted(map(str, tenant_ids))),
        "" if user_id is None else str(user_id),
        "on" if platform else "",
    ]


def _write_session(context: TenantContext | None, *, on_exit: bool = False) -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        connection.ensure_connection()
        # The raw connection: this is the choke point's own bookkeeping, not a query of the unit of work
        # (the query-count baselines stay about what views and tasks ask).
        with connection.wrap_database_errors:
            connection.connection.execute(_SET_SESSION, _session_values(context))
    except DatabaseError:
        if not on_exit:
            raise
        # Leaving a context inside a failed transaction: its rollback restores the session's settings to
        # what they were when it began, which is what we were about to write; a broken connection is closed
        # and its successor starts with nothing but what connection_created below writes.


def _on_connection_created(sender, connection, **kwargs) -> None:
    if connection.alias == DEFAULT_DB_ALIAS:
        connection.connection.execute(_SET_SESSION, _session_values(_current.get()))


connection_created.connect(_on_connection_created, dispatch_uid="vigil_rls_session")
