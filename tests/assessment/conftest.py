import pytest

from tests.reporting.conftest import (  # noqa: F401 (fixtures shared with the reporting suite)
    auditor,
    executive,
    file_report,
    reporter,
)


@pytest.fixture
def decide(api_client_for, handler, phishing):
    """POST a decision on a report (as the tenant's handler unless `by`); returns the response."""

    def post(report, *, by=None, **overrides):
        body = {
            "decision": "incident",
            "category": str(phishing.id),
            "impact": "high",
            "urgency": "critical",
            "rationale": "Credentials were entered on the fake page.",
            **overrides,
        }
        body = {name: value for name, value in body.items() if value is not ...}
        return api_client_for(by or handler).post(
            f"/api/v1/reports/{report['id']}/assessment/", body, format="json"
        )

    return post
