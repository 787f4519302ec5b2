"""Fixtures of the reporting and assessment suites (tests/assessment imports them)."""

from datetime import timedelta

import pytest
from django.utils import timezone

OCCURRED = "2026-03-02T08:30:00+01:00"
DETECTED = "2026-03-02T09:15:00+01:00"


@pytest.fixture
def reporter(make_member, tenant):
    return make_member("reporter", tenant)


@pytest.fixture
def auditor(make_member, tenant):
    return make_member("auditor", tenant)


@pytest.fixture
def executive(make_member, tenant):
    return make_member("executive", tenant)


@pytest.fixture
def file_report(api_client_for, tenant):
    """File a report through the API (as `by`, in `tenant` unless told otherwise); returns its JSON."""

    def make(by, *, in_tenant=None, **overrides):
        body = {
            "tenant": str((in_tenant or tenant).id),
            "kind": "event",
            "title": "Suspicious e-mail asking for my password",
            "description": "It came from payroll-update@example.net.",
            "occurred_at": OCCURRED,
            "detected_at": DETECTED,
            **overrides,
        }
        response = api_client_for(by).post("/api/v1/reports/", body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return make


def recent(minutes: int = 10) -> str:
    return (timezone.now() - timedelta(minutes=minutes)).isoformat()
