"""Shared by the tests that show an assessment is one transaction: a subscriber that fails after the
assessment's writes, and the service called directly as a web view or task would call it."""

from collections.abc import Iterator
from contextlib import contextmanager

from apps.core import events


@contextmanager
def failing_subscriber(pattern: str, message: str = "a later subscriber failed") -> Iterator[None]:
    """While inside, every event matching `pattern` raises `RuntimeError(message)` in its subscriber."""

    def explode(event):
        raise RuntimeError(message)

    events.subscribe(pattern)(explode)
    try:
        yield
    finally:
        events._subscribers.remove((pattern, explode))


def record_incident_assessment(handler, report_id, category):
    """`assessment_record` deciding `incident` for the report, by the handler with their own access."""
    from apps.assessment.services import assessment_record
    from apps.reporting.models import Report
    from apps.tenancy.access import access_for

    return assessment_record(
        actor=handler,
        access=access_for(handler),
        report=Report.unscoped.get(pk=report_id),
        decision="incident",
        rationale="Credentials were entered",
        category=category,
        impact="high",
        urgency="high",
    )
