"""The fuzzing suites' shared pieces: the run's figure, and Django's WSGI application called in process."""

import pytest
from django.core import signals
from django.db import close_old_connections


@pytest.fixture
def _in_process_wsgi():
    """Django's WSGIHandler closes the connection at the end of every request (close_old_connections);
    inside the test's transaction that would throw the test's data away. Django's own test client
    disconnects it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def pytest_terminal_summary(terminalreporter):
    """The figure the issue asks for: how many generated requests the fuzzer sent, per role."""
    from tests.fuzz.test_api_fuzz import CASES

    if CASES:
        per_role = ", ".join(f"{role} {count}" for role, count in sorted(CASES.items()))
        terminalreporter.write_line(f"API fuzzing: {sum(CASES.values())} cases ({per_role})")
