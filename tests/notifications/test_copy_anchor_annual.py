"""The attached copy of a submitted notice, manual anchors (AU-2) and annual obligations (HIPAA-4)."""

import hashlib
from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.audit.models import AuditEntry
from apps.notifications.models import AnnualObligationIncident, Obligation
from apps.response.models import TimelineEntry

AWARE = "2026-03-28T12:00:00+01:00"


def at(value):
    return parse_datetime(value) if value else None


@pytest.fixture
def gdpr_obligation(tenant, declare, patch_incident, obligations_of):
    tenant.settings = {"regimes": ["gdpr"]}
    tenant.save(update_fields=["settings"])
    incident = declare()
    patch_incident(incident["id"], personal_data_breach=True, aware_at=AWARE)
    return obligations_of(incident["id"])["GDPR-2"]


# --------------------------------------------------------------------------------------------------
# The copy of what was sent
# --------------------------------------------------------------------------------------------------


def test_submit_with_a_copy_stores_it_content_addressed(gdpr_obligation, api_client_for, handler, tenant):
    content = b"%PDF-1.7 notification to the CNIL\n" + bytes(range(256)) * 4000  # ~1 MB, several chunks
    client = api_client_for(handler)
    response = client.post(
        f"/api/v1/obligations/{gdpr_obligation['id']}/submit/",
        {
            "reference": "CNIL-2026-77",
            "copy": SimpleUploadedFile("../../etc/notice\x00.pdf", content, "application/pdf"),
        },
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    digest = hashlib.sha256(content).hexdigest()
    assert body["status"] == "submitted"
    assert body["copy_sha256"] == digest
    assert body["copy_size"] == len(content)
    assert body["copy_name"] == "notice.pdf"
    assert body["has_copy"] is True
    obligation = Obligation.unscoped.get(pk=gdpr_obligation["id"])
    assert obligation.copy_storage_key == f"notices/{tenant.pk}/{digest[:2]}/{digest}"
    with storages["evidence"].open(obligation.copy_storage_key, "rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == digest

    download = client.get(f"/api/v1/obligations/{gdpr_obligation['id']}/copy/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")
    assert 'filename="notice.pdf"' in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == content


def test_json_submit_still_works_and_copy_is_404_without_one(gdpr_obligation, api_client_for, handler):
    client = api_client_for(handler)
    assert client.get(f"/api/v1/obligations/{gdpr_obligation['id']}/copy/").status_code == 404
    response = client.post(
        f"/api/v1/obligations/{gdpr_obligation['id']}/submit/", {"reference": "X-1"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["has_copy"] is False
    assert client.get(f"/api/v1/obligations/{gdpr_obligation['id']}/copy/").status_code == 404


def test_a_copy_over_the_limit_is_413(gdpr_obligation, api_client_for, handler, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    response = api_client_for(handler).post(
        f"/api/v1/obligations/{gdpr_obligation['id']}/submit/",
        {"copy": SimpleUploadedFile("big.pdf", b"x" * 4096)},
        format="multipart",
    )
    assert response.status_code == 413
    assert Obligation.unscoped.get(pk=gdpr_obligation["id"]).status == "pending"


def test_the_submission_and_its_copy_cannot_change(gdpr_obligation, api_client_for, handler):
    url = f"/api/v1/obligations/{gdpr_obligation['id']}/submit/"
    client = api_client_for(handler)
    first = client.post(
        url, {"reference": "REF-1", "copy": SimpleUploadedFile("a.txt", b"first")}, format="multipart"
    )
    assert first.status_code == 200
    again = client.post(url, {"copy": SimpleUploadedFile("b.txt", b"second")}, format="multipart")
    assert again.status_code == 409

    obligation = Obligation.unscoped.get(pk=gdpr_obligation["id"])
    for field, value in [
        ("copy_sha256", "0" * 64),
        ("copy_storage_key", "notices/elsewhere"),
        ("reference", "rewritten"),
        ("status", "pending"),
    ]:
        with pytest.raises(DatabaseError, match="submission cannot be changed"), transaction.atomic():
            Obligation.unscoped.filter(pk=obligation.pk).update(**{field: value})
    # What the system still writes on a submitted row (the reminder pointer) is allowed.
    Obligation.unscoped.filter(pk=obligation.pk).update(next_reminder_at=None)
    assert Obligation.unscoped.get(pk=obligation.pk).copy_sha256 == hashlib.sha256(b"first").hexdigest()


def test_the_copy_follows_obligation_visibility(gdpr_obligation, api_client_for, handler, make_member):
    from apps.tenancy.roles import RoleId
    from tests.factories import TenantFactory

    api_client_for(handler).post(
        f"/api/v1/obligations/{gdpr_obligation['id']}/submit/",
        {"reference": "REF-1", "copy": SimpleUploadedFile("a.txt", b"sent")},
        format="multipart",
    )
    outsider = make_member(RoleId.MANAGER, TenantFactory())
    assert (
        api_client_for(outsider).get(f"/api/v1/obligations/{gdpr_obligation['id']}/copy/").status_code == 404
    )


# --------------------------------------------------------------------------------------------------
# Manual anchors
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def au_obligation(tenant, declare, patch_incident, obligations_of):
    tenant.settings = {"regimes": ["au-ndb"]}
    tenant.time_zone = "Australia/Sydney"
    tenant.save(update_fields=["settings", "time_zone"])
    incident = declare()
    patch_incident(incident["id"], personal_data_breach=True, aware_at=AWARE)
    obligations = obligations_of(incident["id"])
    assert obligations["AU-2"]["due_at"] is None, "manual anchor not entered yet"
    return obligations["AU-2"]


def test_a_manual_anchor_starts_the_clock(au_obligation, api_client_for, handler, obligations_of):
    anchor = timezone.now() - timedelta(hours=2)
    url = f"/api/v1/obligations/{au_obligation['id']}/anchor/"
    client = api_client_for(handler)
    assert client.post(url, {"anchor_at": anchor.isoformat()}, format="json").status_code == 400
    response = client.post(
        url, {"anchor_at": anchor.isoformat(), "rationale": "Forensics confirmed exfiltration"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert at(body["anchor_at"]) == anchor
    assert at(body["clock_started_at"]) == anchor
    # No legal period ("as soon as practicable"): the tenant's internal SLA, 24 hours by default.
    assert at(body["due_at"]) == anchor + timedelta(hours=24)
    obligation = Obligation.unscoped.get(pk=au_obligation["id"])
    assert obligation.next_reminder_at == anchor + timedelta(hours=12)  # 50 % of the window
    entry = TimelineEntry.unscoped.get(incident_id=au_obligation["incident"], verb="obligation.anchored")
    assert entry.data["rationale"] == "Forensics confirmed exfiltration"
    assert AuditEntry.unscoped.filter(verb="obligation.anchored", actor_id=handler.pk).exists()

    # Corrected later: due_at and the reminder follow.
    earlier = anchor - timedelta(hours=20)
    again = client.post(
        url, {"anchor_at": earlier.isoformat(), "rationale": "Earlier log found"}, format="json"
    )
    assert again.status_code == 200
    obligation.refresh_from_db()
    assert obligation.due_at == earlier + timedelta(hours=24)
    # The points already passed are caught up by the scanner: the earliest unprocessed one (50 %).
    assert obligation.next_reminder_at == earlier + timedelta(hours=12)

    future = client.post(
        url, {"anchor_at": (timezone.now() + timedelta(days=1)).isoformat(), "rationale": "x"}, format="json"
    )
    assert future.status_code == 400
    client.post(f"/api/v1/obligations/{au_obligation['id']}/submit/", {"reference": "REF-1"}, format="json")
    assert (
        client.post(url, {"anchor_at": earlier.isoformat(), "rationale": "late"}, format="json").status_code
        == 409
    )


def test_an_anchor_is_refused_when_the_step_has_its_own(
    gdpr_obligation, api_client_for, handler, make_member
):
    from apps.tenancy.roles import RoleId

    url = f"/api/v1/obligations/{gdpr_obligation['id']}/anchor/"
    body = {"anchor_at": timezone.now().isoformat(), "rationale": "mine"}
    response = api_client_for(handler).post(url, body, format="json")
    assert response.status_code == 400
    assert "anchor_at" in response.json()
    reporter = make_member(RoleId.REPORTER, Obligation.unscoped.get(pk=gdpr_obligation["id"]).tenant)
    assert api_client_for(reporter).post(url, body, format="json").status_code in (403, 404)


# --------------------------------------------------------------------------------------------------
# Annual obligations
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def hipaa_tenant(tenant):
    tenant.settings = {"regimes": ["hipaa"]}
    tenant.time_zone = "America/New_York"
    tenant.country = "US"
    tenant.save(update_fields=["settings", "time_zone", "country"])
    return tenant


def _small_breach(declare, patch_incident, discovered_at, people=40):
    incident = declare()
    patch_incident(
        incident["id"], personal_data_breach=True, discovered_at=discovered_at, affected_data_subjects=people
    )
    return incident


def test_small_breaches_of_a_year_share_one_annual_obligation(
    hipaa_tenant, declare, patch_incident, obligations_of, api_client_for, manager
):
    first = _small_breach(declare, patch_incident, "2026-02-10T10:00:00-05:00")
    second = _small_breach(declare, patch_incident, "2026-11-03T09:00:00-05:00")
    # Discovered on New Year's Eve in New York (already January 1st in UTC): still 2026.
    third = _small_breach(declare, patch_incident, "2026-12-31T21:00:00-05:00")
    next_year = _small_breach(declare, patch_incident, "2027-01-05T09:00:00-05:00")

    annual = obligations_of(first["id"])["HIPAA-4"]
    assert obligations_of(second["id"])["HIPAA-4"]["id"] == annual["id"]
    assert obligations_of(third["id"])["HIPAA-4"]["id"] == annual["id"]
    assert annual["incident"] is None
    assert annual["period_year"] == 2026
    assert set(annual["incidents"]) == {first["id"], second["id"], third["id"]}
    # 60 days after the end of the calendar year, from January 1st in the tenant's time zone.
    assert at(annual["clock_started_at"]) == at("2027-01-01T00:00:00-05:00")
    assert at(annual["due_at"]) == at("2027-03-02T00:00:00-05:00")
    later = obligations_of(next_year["id"])["HIPAA-4"]
    assert later["id"] != annual["id"]
    assert later["period_year"] == 2027
    assert later["incidents"] == [next_year["id"]]
    assert Obligation.unscoped.filter(notice="HIPAA-4").count() == 2

    # On each incident's timeline; listed once in the tenant's list.
    assert TimelineEntry.unscoped.filter(incident_id=first["id"], verb="obligation.created").exists()
    assert TimelineEntry.unscoped.filter(incident_id=second["id"], verb="obligation.collected").exists()
    rows = api_client_for(manager).get("/api/v1/obligations/", {"regime": "hipaa"}).json()["results"]
    assert sum(1 for row in rows if row["notice"] == "HIPAA-4") == 2

    # More than 500 people after all: released from the pending yearly log.
    patch_incident(second["id"], affected_data_subjects=800)
    assert "HIPAA-4" not in obligations_of(second["id"])
    assert not AnnualObligationIncident.unscoped.filter(incident_id=second["id"]).exists()

    # The annual obligation is submitted like any other, with no incident clock to restart.
    response = api_client_for(manager).post(
        f"/api/v1/obligations/{annual['id']}/submit/", {"reference": "OCR-2026"}, format="json"
    )
    assert response.status_code == 200, response.json()
    anchor = api_client_for(manager).post(
        f"/api/v1/obligations/{later['id']}/anchor/",
        {"anchor_at": timezone.now().isoformat(), "rationale": "x"},
        format="json",
    )
    assert anchor.status_code == 400, "an annual clock runs from the year's end"


def test_annual_obligations_follow_incident_visibility(
    hipaa_tenant, declare, patch_incident, api_client_for, handler
):
    restricted = declare(restricted=True)
    patch_incident(
        restricted["id"],
        personal_data_breach=True,
        discovered_at="2026-02-10T10:00:00-05:00",
        affected_data_subjects=3,
    )
    client = api_client_for(handler)
    assert [r for r in client.get("/api/v1/obligations/").json()["results"] if r["notice"] == "HIPAA-4"] == []
    visible = _small_breach(declare, patch_incident, "2026-05-10T10:00:00-05:00")
    rows = [r for r in client.get("/api/v1/obligations/").json()["results"] if r["notice"] == "HIPAA-4"]
    assert len(rows) == 1
    assert rows[0]["incidents"] == [visible["id"]], "the restricted incident is not listed to the handler"


def test_obligation_list_query_count_is_constant(
    hipaa_tenant, declare, patch_incident, api_client_for, manager
):
    client = api_client_for(manager)

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/obligations/").status_code == 200
        return len(ctx.captured_queries)

    _small_breach(declare, patch_incident, "2026-02-10T10:00:00-05:00")
    count()  # the first request of a token also records its use
    few = count()
    for day in range(11, 15):
        _small_breach(declare, patch_incident, f"2026-02-{day}T10:00:00-05:00")
    _small_breach(declare, patch_incident, "2027-02-10T10:00:00-05:00")
    assert count() == few
