"""Regressions for what the API fuzzer (tests/fuzz) found; each was fixed where it belonged."""

import pytest
from django.core.management import call_command

from tests.factories import IncidentFactory, make_evidence


@pytest.mark.parametrize(
    ("url", "status"),
    [
        # PostgreSQL refuses UTC offsets beyond ±15:59 (Python allows ±23:59): was a 500, now compared in UTC.
        ("/api/v1/obligations/?due_before=0213-05-31T15:22:54-21:20", 200),
        ("/api/v1/audit/?since=2026-01-01T00:00:00%2B23:59", 200),
        # In UTC this moment would be in year 0: refused as input, not a server error.
        ("/api/v1/audit/?until=0001-01-01T00:00:00%2B01:00", 400),
    ],
)
def test_date_time_filters_take_any_offset(url, status, make_member, tenant, api_client_for):
    client = api_client_for(make_member("auditor", tenant))
    assert client.get(url).status_code == status


def test_custody_log_documents_the_actions_the_platform_records(
    make_member, tenant, api_client_for, tmp_path
):
    """The custody log shows automatic actions (`collected`, ...) that nobody may post: the response schema
    lists every action, the request schema only the manual ones."""
    evidence = make_evidence(IncidentFactory(tenant=tenant))
    client = api_client_for(make_member("investigator", tenant))
    listed = client.get(f"/api/v1/evidence/{evidence.pk}/custody/").json()["results"]
    assert [event["action"] for event in listed] == ["collected"]
    refused = client.post(
        f"/api/v1/evidence/{evidence.pk}/custody/", {"action": "collected", "to_holder": "x"}
    )
    assert refused.status_code == 400

    call_command("spectacular", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text()
    response_enum = schema.split("    CustodyActionEnum:\n", 1)[1].split("type: string", 1)[0]
    request_enum = schema.split("    ManualCustodyActionEnum:\n", 1)[1].split("type: string", 1)[0]
    assert "- collected" in response_enum
    assert "- collected" not in request_enum
    assert "- transferred" in request_enum


def test_a_decision_without_incident_has_a_documented_blank_severity(
    make_member, tenant, api_client_for, tmp_path
):
    """`not_incident` and `duplicate` decisions carry severity "": the schema allows it (it denied it)."""
    from tests.test_isolation_matrix import _assessment, _report

    assessment = _assessment(tenant, _report(tenant))
    client = api_client_for(make_member("handler", tenant))
    listed = client.get(f"/api/v1/reports/{assessment.report_id}/assessment/").json()["results"]
    assert listed[0]["severity"] == ""

    call_command("spectacular", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text()
    assessment_schema = schema.split("\n    Assessment:\n", 1)[1].split("\n    AssessmentCreate", 1)[0]
    severity = assessment_schema.split("        severity:\n", 1)[1].split("\n        rationale:", 1)[0]
    assert "BlankEnum" in severity
