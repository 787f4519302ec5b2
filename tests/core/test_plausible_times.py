"""Every other time people state about the past is bounded too (issue 14; apps/core/times.py): a report's
`occurred_at` and `detected_at`, an incident's clock anchors, an evidence item's `collected_at`, a custody
event's `at`, an obligation's manual `anchor_at` and a notice's `submitted_at` — not in the future beyond the
clock skew (most were bounded there already; an incident's clock anchors: a year ahead), and not before
1970-01-01 UTC. 400 naming the field."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.evidence.models import Evidence
from apps.reporting.models import Report
from tests.factories import IncidentFactory, make_evidence

pytestmark = pytest.mark.django_db

YEAR_1 = "0001-01-01T00:00:00Z"
BEFORE_EPOCH = "1969-12-31T23:59:00Z"
EPOCH_MESSAGE = "Cannot be before 1970-01-01 00:00 UTC."


@pytest.mark.parametrize("field", ["occurred_at", "detected_at"])
@pytest.mark.parametrize("value", [YEAR_1, BEFORE_EPOCH])
def test_a_report_from_before_the_epoch_is_refused(field, value, tenant, make_member, api_client_for):
    times = {"occurred_at": "2026-01-01T00:00:00Z", field: value}
    if field == "detected_at":
        times["occurred_at"] = BEFORE_EPOCH
    body = {"tenant": str(tenant.pk), "kind": "event", "title": "Odd mail", **times}

    response = api_client_for(make_member("reporter", tenant)).post("/api/v1/reports/", body, format="json")

    assert response.status_code == 400
    assert response.json()[field] == [EPOCH_MESSAGE]
    assert not Report.unscoped.filter(tenant=tenant).exists()


@pytest.mark.parametrize(
    "field", ["aware_at", "classified_major_at", "materiality_determined_at", "discovered_at"]
)
@pytest.mark.parametrize(
    ("value", "message"),
    [(YEAR_1, EPOCH_MESSAGE), ("9999-12-31T23:59:59Z", "Cannot be more than 366 days ahead.")],
)
def test_an_incident_clock_anchor_is_a_plausible_time(
    field, value, message, declare, api_client_for, manager
):
    incident = declare()

    response = api_client_for(manager).patch(
        f"/api/v1/incidents/{incident['id']}/", {field: value}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {field: [message]}


def test_declaring_with_an_awareness_in_year_1_is_refused(declare, api_client_for, manager, tenant, phishing):
    body = {"tenant": str(tenant.pk), "title": "Old", "category": str(phishing.pk), "aware_at": YEAR_1}
    body.update(impact="medium", urgency="high")

    response = api_client_for(manager).post("/api/v1/incidents/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"aware_at": [EPOCH_MESSAGE]}


def test_evidence_collected_before_the_epoch_is_refused(tenant, make_member, api_client_for):
    incident = IncidentFactory(tenant=tenant)
    body = {
        "incident": str(incident.pk),
        "collected_at": BEFORE_EPOCH,
        "file": SimpleUploadedFile("capture.log", b"x", content_type="text/plain"),
    }

    response = api_client_for(make_member("handler", tenant)).post(
        "/api/v1/evidence/", body, format="multipart"
    )

    assert response.status_code == 400
    assert response.json() == {"collected_at": [EPOCH_MESSAGE]}
    assert not Evidence.unscoped.filter(incident=incident).exists()


def test_a_custody_event_before_the_epoch_is_refused(tenant, make_member, api_client_for):
    evidence = make_evidence(IncidentFactory(tenant=tenant))
    body = {"action": "sealed", "purpose": "Bagged", "at": YEAR_1}

    response = api_client_for(make_member("investigator", tenant)).post(
        f"/api/v1/evidence/{evidence.pk}/custody/", body, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"at": [EPOCH_MESSAGE]}


def test_a_notice_submitted_before_the_epoch_is_refused(tenant, declare, api_client_for, manager):
    tenant.settings = {"regimes": ["gdpr"]}
    tenant.save(update_fields=["settings"])
    incident = declare(title="Customer database exposed", impact="high")
    client = api_client_for(manager)
    aware = (timezone.now() - timedelta(hours=2)).isoformat()
    assert (
        client.patch(
            f"/api/v1/incidents/{incident['id']}/",
            {"personal_data_breach": True, "aware_at": aware},
            format="json",
        ).status_code
        == 200
    )
    obligation = next(
        row
        for row in client.get("/api/v1/obligations/", {"incident": incident["id"]}).json()["results"]
        if row["notice"] == "GDPR-2"
    )
    body = {"submitted_at": YEAR_1, "recipient": "CNIL", "reference": "CNIL-1"}

    response = client.post(f"/api/v1/obligations/{obligation['id']}/submit/", body, format="multipart")

    assert response.status_code == 400
    assert response.json() == {"submitted_at": [EPOCH_MESSAGE]}


@pytest.mark.parametrize("path", ["/api/v1/metrics/", "/api/v1/compliance/iso27001/"])
@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1969-12-31"])
def test_a_report_period_outside_plausible_dates_is_400(path, value, tenant, make_member, api_client_for):
    """`?from=9999-12-31&to=9999-12-31` was a 500 (the period's end overflowed)."""
    client = api_client_for(make_member("manager", tenant))

    response = client.get(path, {"from": value, "to": value})

    assert response.status_code == 400
    assert set(response.json()) == {"from", "to"}
    assert response.json()["from"][0].startswith("A date from 1970-01-01 to ")
