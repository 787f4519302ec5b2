"""The suite's rule: the app's code never runs under the test suite's cross-tenant widening
(tests/production_paths.py). Each way into the app's code shows nothing outside a tenant context, as in
production, while the test's own code sees every tenant; and without the wrappers the guard catches it."""

from contextlib import contextmanager

import pytest
from django.core.management import BaseCommand, call_command
from django.db import transaction
from django.http import StreamingHttpResponse
from django.test import RequestFactory
from django.views import View

from apps.response.models import Incident
from config.celery import app as celery_app
from tests import production_paths
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def _count_incidents() -> int:
    return Incident.unscoped.count()


class _CountingView(View):
    def get(self, request):
        seen = _count_incidents()
        return StreamingHttpResponse(iter([str(seen)]))


class _CountingCommand(BaseCommand):
    def handle(self, *args, **options):
        return str(_count_incidents())


@celery_app.task(name="tests.production_paths.count_incidents")
def _counting_task():
    return _count_incidents()


def _streamed_count() -> int:
    response = StreamingHttpResponse(str(_count_incidents()) for _ in range(1))
    return int(b"".join(response.streaming_content))


def _on_commit_count(capture) -> int:
    seen = []
    with capture(execute=True):
        transaction.on_commit(lambda: seen.append(_count_incidents()))
    return seen[0]


WAYS_IN = {
    "a view": lambda capture: int(_CountingView.as_view()(RequestFactory().get("/")).getvalue()),
    "a streamed body": lambda capture: _streamed_count(),
    "a Celery task": lambda capture: _counting_task(),
    "a Celery task applied eagerly": lambda capture: _counting_task.apply().get(),
    "an on_commit callback": _on_commit_count,
    "a management command": lambda capture: int(call_command(_CountingCommand())),
}


@contextmanager
def _without_entry_point_wrappers():
    production_paths.remove_entry_points()
    try:
        yield
    finally:
        production_paths.install_entry_points()


@pytest.mark.parametrize("way_in", WAYS_IN)
def test_the_apps_code_sees_nothing_outside_a_context_while_the_test_sees_every_tenant(
    way_in, django_capture_on_commit_callbacks
):
    IncidentFactory()
    assert _count_incidents() == 1  # the test's own code: widened
    assert WAYS_IN[way_in](django_capture_on_commit_callbacks) == 0  # the app's code: as in production
    assert _count_incidents() == 1


@pytest.mark.parametrize("way_in", [w for w in WAYS_IN if w != "a streamed body"])
def test_without_the_wrappers_the_guard_catches_the_apps_code_under_the_widening(
    way_in, django_capture_on_commit_callbacks
):
    IncidentFactory()
    guard = production_paths.active_guard
    assert guard.violations == []
    with _without_entry_point_wrappers():
        assert WAYS_IN[way_in](django_capture_on_commit_callbacks) == 1  # the blind spot itself
    assert guard.violations, f"{way_in}: the guard saw nothing"
    assert "_count_incidents" in guard.violations[0]
    guard.violations.clear()  # caught on purpose: this test passes
