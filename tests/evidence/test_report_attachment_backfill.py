"""Installations upgraded from before attachments followed their report: `link_report_attachments` joins
the attachments of reports already in an incident to it, recorded like an assessment records it."""

import io

import pytest
from django.core.management import call_command

from apps.reporting.models import Report
from tests.evidence.test_report_attachment import _custody, _package
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = io.StringIO()
    call_command("link_report_attachments", stdout=out)
    return out.getvalue()


def test_attachments_of_reports_already_in_an_incident_join_it_once(
    attached, tenant, make_member, api_client_for, tmp_path
):
    report, evidence = attached(title="Odd e-mail", occurred_at="2026-03-02T08:30Z")
    incident = IncidentFactory(tenant=tenant)
    Report.unscoped.filter(pk=report["id"]).update(incident=incident)  # as an older version left it
    manager = api_client_for(make_member("manager", tenant))
    assert manager.get(f"/api/v1/evidence/{evidence['id']}/").json()["incident"] is None

    assert _run().startswith("1 attachment(s)")

    item = manager.get(f"/api/v1/evidence/{evidence['id']}/").json()
    assert item["incident"] == str(incident.pk)
    assert [entry["action"] for entry in _custody(manager, evidence["id"])] == ["collected", "linked"]
    _, manifest = _package(manager, str(incident.pk), tmp_path)
    assert [row["id"] for row in manifest["files"]] == [evidence["id"]]
    assert _run().startswith("0 attachment(s)")  # again: nothing moves twice
