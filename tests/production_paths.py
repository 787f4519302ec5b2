"""Where the app's code runs in the test suite, the database shows what production's shows.

The suite's own setup and assertions read and write across tenants outside any tenant context (factories,
`Model.unscoped` checks): for them "outside every context" is widened to every tenant (`widened`). The
app's code must never profit from that: green tests once hid an empty CSV export whose rows were read
while the response streamed, after the request's context had closed. So:

- every way the app's code is entered in this process runs `in_production()`: a request through the test
  client or the live server, the body of a streamed response as it is read, a Celery task called in this
  process, an `on_commit` callback, a management command. There the widening is off, and outside a tenant
  context the database shows nothing, exactly as in production;
- `QueryGuard` fails a test when the app's code, entered in one of those ways, queries the database under
  the widening anyway (an entry point these wrappers missed). It recognises the entry by the library
  frames on the stack (`ENTRY_FRAMES`), not by the wrappers, so it checks them. A streamed body leaves no
  such frame (its generator runs under whoever reads it), so every StreamingHttpResponse's body is wrapped
  where it is set, whichever way the response was made.
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS

from apps.tenancy import context as tenant_context

_running_app_code: ContextVar[bool] = ContextVar("vigil_tests_running_app_code", default=False)
_widening_on = False


def _every_tenant() -> tuple[frozenset, None, bool]:
    from django.db import connections

    rows = connections["default"].connection.execute("SELECT id FROM tenancy_tenant").fetchall()
    return frozenset(row[0] for row in rows), None, True  # and the platform's own rows (its audit chain)


def widened() -> tuple[frozenset, object | None, bool]:
    """The suite's view outside every context: every tenant, except while the app's code runs."""
    if _running_app_code.get():
        return tenant_context._outside_any_context()
    return _every_tenant()


def set_widening(on: bool) -> None:
    global _widening_on
    _widening_on = on
    tenant_context.outside_any_context = widened if on else tenant_context._outside_any_context


def _rewrite_outside() -> None:
    """Write what the session holds outside every context now (nothing to do inside a context)."""
    if tenant_context._current.get() is not None:
        return
    with suppress(RuntimeError):  # pytest-django's refusal: this test does not use the database at all
        tenant_context._write_session(None, on_exit=True)


@contextmanager
def in_production() -> Iterator[None]:
    """The app's code runs: outside every context the database shows nothing (as in production)."""
    token = _running_app_code.set(True)
    _rewrite_outside()
    try:
        yield
    finally:
        _running_app_code.reset(token)
        _rewrite_outside()


def iterated_in_production(items: Iterable) -> Iterator:
    """A streamed body read as the server reads it: each chunk produced by the app's code in production."""
    iterator = iter(items)
    while True:
        with in_production():
            try:
                item = next(iterator)
            except StopIteration:
                return
        yield item


# --------------------------------------------------------------------------------------------------
# The entry points
# --------------------------------------------------------------------------------------------------


def _wrap(owner, name: str, make):
    original = owner.__dict__[name]  # as defined (a classmethod stays one when put back)
    setattr(owner, name, make(original))
    return lambda: setattr(owner, name, original)


def _streamed_body(original):
    def set_streaming_content(self, value):
        original(self, value if hasattr(value, "__aiter__") else iterated_in_production(value))

    return set_streaming_content


def _in_production_call(original):
    def call(*args, **kwargs):
        with in_production():
            return original(*args, **kwargs)

    # A view keeps what middleware reads of it (view_class, csrf_exempt, ...). Not its __module__: Celery
    # calls a task's __call__ only when it is defined outside celery.app.task (else it calls run()).
    return functools.update_wrapper(call, original, assigned=("__name__", "__qualname__", "__doc__"))


def _view_of(original):
    def as_view(cls, *args, **kwargs):
        return _in_production_call(original.__func__(cls, *args, **kwargs))

    return classmethod(as_view)


def _on_commit(original):
    def on_commit(self, func, robust=False):
        return original(self, _in_production_call(func), robust=robust)

    return on_commit


_undo: list = []


def remove_entry_points() -> None:
    while _undo:
        _undo.pop()()  # last wrapped, first restored


def install_entry_points() -> None:
    """Wrap every way the app's code is entered in this process (`remove_entry_points` undoes it)."""
    from celery.app.task import Task
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management.base import BaseCommand
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.http import StreamingHttpResponse
    from django.test.client import ClientHandler
    from django.views.generic.base import View

    from apps.tenancy.tasks import TenantTask

    remove_entry_points()
    _undo[:] = [
        _wrap(ClientHandler, "__call__", _in_production_call),
        _wrap(WSGIHandler, "__call__", _in_production_call),  # the live server's
        _wrap(StreamingHttpResponse, "_set_streaming_content", _streamed_body),
        _wrap(View, "as_view", _view_of),  # a view called directly (RequestFactory)
        _wrap(Task, "__call__", _in_production_call),
        _wrap(TenantTask, "__call__", _in_production_call),
        _wrap(BaseCommand, "execute", _in_production_call),
        _wrap(BaseDatabaseWrapper, "on_commit", _on_commit),
    ]


# --------------------------------------------------------------------------------------------------
# The guard
# --------------------------------------------------------------------------------------------------

# Frames that say the app's code was entered the way production enters it, whoever called it (library
# file, function name). The suite's own direct calls into services and selectors (setup, assertions) are
# not among them: those may read across tenants like factories do.
ENTRY_FRAMES: frozenset[tuple[str, str]] = frozenset(
    {
        ("django/core/handlers/base.py", "get_response"),  # a request, through any client or server
        ("django/core/handlers/base.py", "_get_response"),
        ("django/views/generic/base.py", "view"),  # a view called directly (RequestFactory)
        ("rest_framework/views.py", "dispatch"),
        ("celery/app/task.py", "__call__"),  # a task run in this process
        ("celery/app/trace.py", "trace_task"),
        ("django/db/backends/base/base.py", "run_and_clear_commit_hooks"),  # on_commit callbacks
        ("django/test/testcases.py", "captureOnCommitCallbacks"),
        ("django/core/management/base.py", "execute"),  # a management command
    }
)


class QueryGuard:
    """An execute wrapper recording each query the app's code ran, entered as production enters it,
    outside every context under the widening: what would read nothing in production."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        if self._under_widening(context["connection"]) and _entered_as_in_production():
            self.violations.append(self._describe(sql))
        return execute(sql, params, many, context)

    @staticmethod
    def _under_widening(connection) -> bool:
        return (
            _widening_on
            and connection.alias == DEFAULT_DB_ALIAS
            and not _running_app_code.get()
            and tenant_context._current.get() is None
        )

    @staticmethod
    def _describe(sql: str) -> str:
        stack = [line for line in traceback.format_stack() if "/.venv/" not in line]
        return f"{sql[:200]}\n{''.join(stack[-10:-2])}"


active_guard: QueryGuard | None = None  # the current test's (tests/conftest.py)


def _entered_as_in_production() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        for suffix, function in ENTRY_FRAMES:
            if code.co_name == function and code.co_filename.endswith(suffix):
                return True
        frame = frame.f_back
    return False
