import csv
import io

from django.db import transaction

from apps.response.services import incident_declare
from apps.tenancy.access import access_for
from apps.tenancy.context import activate


def _csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="incidents.csv"'
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_export_follows_filters_and_visibility(declare, api_client_for, handler, other_tenant, superuser):
    declare(title="Phishing wave", impact="low", urgency="low")
    declare(title="Ransomware", impact="critical", urgency="critical")
    with activate(access_for(superuser)), transaction.atomic():
        incident_declare(
            actor=superuser,
            access=access_for(superuser),
            tenant=other_tenant,
            title="Not yours",
            impact="low",
            urgency="low",
        )
    rows = _csv(api_client_for(handler).get("/api/v1/incidents/export/"))
    assert sorted(r["title"] for r in rows) == ["Phishing wave", "Ransomware"]
    p1 = _csv(api_client_for(handler).get("/api/v1/incidents/export/?severity=P1"))
    assert [r["title"] for r in p1] == ["Ransomware"]
    assert p1[0]["severity"] == "P1"


def test_export_neutralises_spreadsheet_formulas(declare, api_client_for, handler):
    declare(title='=HYPERLINK("http://evil.example","click")')
    rows = _csv(api_client_for(handler).get("/api/v1/incidents/export/"))
    assert rows[0]["title"].startswith("'=")


def test_executives_export_restricted_incidents_as_summary_only(declare, api_client_for, make_member, tenant):
    declare(title="Board member's mailbox", restricted=True, description="secret details")
    rows = _csv(api_client_for(make_member("executive", tenant)).get("/api/v1/incidents/export/"))
    assert rows[0]["title"] == "Board member's mailbox"
    assert rows[0]["severity"] == "P3"
    assert rows[0]["category"] == ""  # beyond title and severity: nothing
