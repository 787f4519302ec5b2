"""Obligations through the API: created when an incident becomes subject to a regime, rescheduled when an
anchor is corrected, closed by submit (which starts the clocks that run from it) or waive."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.audit.models import AuditEntry
from apps.notifications.models import Authority, Obligation
from apps.response.models import TimelineEntry
from apps.tenancy.roles import RoleId
from tests.factories import TenantFactory

AWARE = "2026-03-28T12:00:00+01:00"  # Saturday noon in Paris, the day before the DST change


def at(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


@pytest.fixture
def gdpr_tenant(tenant):
    tenant.settings = {"regimes": ["gdpr"]}
    tenant.save(update_fields=["settings"])
    return tenant


def test_personal_data_breach_creates_the_gdpr_obligations(
    gdpr_tenant, declare, patch_incident, obligations_of
):
    incident = declare()
    assert obligations_of(incident["id"]) == {}

    patch_incident(incident["id"], personal_data_breach=True, aware_at=AWARE)

    obligations = obligations_of(incident["id"])
    # GDPR-2 (72 h); GDPR-4 because "high risk to data subjects" is not recorded yet (conservative: it is
    # listed, to be waived with a rationale); GDPR-5 (the internal register) is guidance, not an obligation.
    assert set(obligations) == {"GDPR-2", "GDPR-4"}
    authority_notice = obligations["GDPR-2"]
    assert authority_notice["regime"] == "gdpr"
    assert authority_notice["step"] == "GDPR-2"
    assert authority_notice["status"] == "pending"
    assert authority_notice["overdue"] is True  # 2026-03-31 is in the past
    assert at(authority_notice["clock_started_at"]) == at(AWARE)
    # 72 real hours across the DST change: Tuesday 13:00 Paris summer time.
    assert at(authority_notice["due_at"]) == at("2026-03-31T13:00:00+02:00")
    assert at(obligations["GDPR-4"]["due_at"]) == at(AWARE) + timedelta(hours=24)  # internal SLA

    timeline = TimelineEntry.unscoped.filter(incident_id=incident["id"], verb="obligation.created")
    assert timeline.count() == 2
    assert AuditEntry.unscoped.filter(incident_id=incident["id"], verb="obligation.created").count() == 2


def test_correcting_aware_at_reschedules_pending_obligations(
    gdpr_tenant, declare, patch_incident, obligations_of
):
    incident = declare()
    patch_incident(incident["id"], personal_data_breach=True, aware_at=AWARE)
    patch_incident(incident["id"], aware_at="2026-03-27T09:00:00+01:00")

    obligation = obligations_of(incident["id"])["GDPR-2"]
    assert at(obligation["due_at"]) == at("2026-03-30T10:00:00+02:00")
    entry = TimelineEntry.unscoped.get(
        incident_id=incident["id"], verb="obligation.rescheduled", data__step="GDPR-2"
    )
    assert at(entry.data["old_due_at"]) == at("2026-03-31T13:00:00+02:00")
    assert at(entry.data["new_due_at"]) == at("2026-03-30T10:00:00+02:00")
    assert Obligation.unscoped.filter(incident_id=incident["id"]).count() == 2, "no duplicates"


def test_submitting_the_nis2_notification_starts_the_final_report_clock(
    declare, patch_incident, obligations_of, api_client_for, handler
):
    incident = declare()
    patch_incident(
        incident["id"],
        regimes=["nis2"],
        aware_at=AWARE,
        rationale="Significant: outage of an essential service",
    )
    obligations = obligations_of(incident["id"])
    assert {"NIS2-1", "NIS2-notification", "NIS2-5"} <= set(obligations)
    assert obligations["NIS2-notification"]["step"] == "NIS2-2"  # not a trust service provider
    assert at(obligations["NIS2-1"]["due_at"]) == at(AWARE) + timedelta(hours=24)
    assert obligations["NIS2-5"]["due_at"] is None, "runs from a submission not made yet"

    client = api_client_for(handler)
    url = f"/api/v1/obligations/{obligations['NIS2-notification']['id']}/submit/"
    body = {
        "submitted_at": "2026-03-30T10:15:00+02:00",
        "reference": "CERT-FR-2026-0042",
        "recipient": "CERT-FR",
        "summary": "Incident notification with initial assessment and IoCs",
    }
    response = client.post(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "submitted"
    assert response.json()["submitted_by"] == str(handler.pk)
    assert response.json()["submitted_to"] == "CERT-FR"

    final = obligations_of(incident["id"])["NIS2-5"]
    assert at(final["clock_started_at"]) == at("2026-03-30T10:15:00+02:00")
    assert at(final["due_at"]) == at("2026-04-30T10:15:00+02:00")  # one calendar month

    again = client.post(url, body, format="json")
    assert again.status_code == 409
    verbs = set(TimelineEntry.unscoped.filter(incident_id=incident["id"]).values_list("verb", flat=True))
    assert {"obligation.created", "obligation.submitted", "obligation.rescheduled"} <= verbs
    assert AuditEntry.unscoped.filter(verb="obligation.submitted", actor_id=handler.pk).exists()


def test_a_trust_service_provider_gets_the_24h_notification(tenant, declare, patch_incident, obligations_of):
    tenant.settings = {"facts": {"trust_service_provider": True}}
    tenant.save(update_fields=["settings"])
    incident = declare()
    patch_incident(incident["id"], regimes=["nis2"], aware_at=AWARE, rationale="Significant")
    notification = obligations_of(incident["id"])["NIS2-notification"]
    assert notification["step"] == "NIS2-3"
    assert at(notification["due_at"]) == at(AWARE) + timedelta(hours=24)


def test_submitted_obligations_are_left_alone_when_anchors_change(
    declare, patch_incident, obligations_of, api_client_for, handler
):
    incident = declare()
    patch_incident(incident["id"], regimes=["nis2"], aware_at=AWARE, rationale="Significant")
    early = obligations_of(incident["id"])["NIS2-1"]
    api_client_for(handler).post(
        f"/api/v1/obligations/{early['id']}/submit/", {"reference": "REF-1"}, format="json"
    )
    patch_incident(incident["id"], aware_at="2026-03-27T09:00:00+01:00")
    after = obligations_of(incident["id"])["NIS2-1"]
    assert after["status"] == "submitted"
    assert after["due_at"] == early["due_at"]


def test_dora_initial_is_due_at_the_earliest_limit(declare, patch_incident, obligations_of):
    incident = declare()
    patch_incident(
        incident["id"],
        regimes=["dora"],
        aware_at="2026-06-08T08:00:00+02:00",
        classified_major_at="2026-06-08T22:00:00+02:00",
        rationale="Major: critical services, two criteria",
    )
    initial = obligations_of(incident["id"])["DORA-initial"]
    # classified + 4 h = 02:00 next day; aware + 24 h = 08:00 next day: the earlier wins (DORA-1).
    assert initial["step"] == "DORA-1"
    assert at(initial["due_at"]) == at("2026-06-09T02:00:00+02:00")
    assert obligations_of(incident["id"])["DORA-3"]["due_at"] is None

    # Classified late (more than 24 h after awareness): DORA-1 alone, 4 h after classification.
    patch_incident(incident["id"], classified_major_at="2026-06-10T10:00:00+02:00")
    initial = obligations_of(incident["id"])["DORA-initial"]
    assert initial["step"] == "DORA-1"
    assert at(initial["due_at"]) == at("2026-06-10T14:00:00+02:00")

    # Not classified yet: the 24 h backstop from awareness is what runs.
    patch_incident(incident["id"], classified_major_at=None)
    initial = obligations_of(incident["id"])["DORA-initial"]
    assert initial["step"] == "DORA-2"
    assert at(initial["due_at"]) == at("2026-06-09T08:00:00+02:00")


def test_waive_needs_a_manager_and_a_rationale(
    gdpr_tenant, declare, patch_incident, obligations_of, api_client_for, handler, manager
):
    incident = declare()
    patch_incident(incident["id"], personal_data_breach=True, aware_at=AWARE)
    obligation = obligations_of(incident["id"])["GDPR-4"]
    url = f"/api/v1/obligations/{obligation['id']}/waive/"

    assert api_client_for(handler).post(url, {"rationale": "No high risk"}, format="json").status_code == 403
    client = api_client_for(manager)
    blank = client.post(url, {"rationale": "  "}, format="json")
    assert blank.status_code == 400
    assert client.post(url, {}, format="json").status_code == 400

    rationale = "No high risk to data subjects: the data were encrypted (Art. 34(3)(a))"
    response = client.post(url, {"rationale": rationale}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "waived"
    assert response.json()["waived_rationale"] == rationale
    assert response.json()["waived_by"] == str(manager.pk)
    assert client.post(url, {"rationale": rationale}, format="json").status_code == 409
    submit = client.post(
        f"/api/v1/obligations/{obligation['id']}/submit/", {"reference": "REF-1"}, format="json"
    )
    assert submit.status_code == 409
    assert TimelineEntry.unscoped.filter(incident_id=incident["id"], verb="obligation.waived").exists()


def test_status_is_not_patchable(
    gdpr_tenant, declare, patch_incident, obligations_of, api_client_for, manager
):
    incident = declare()
    patch_incident(incident["id"], personal_data_breach=True, aware_at=AWARE)
    obligation = obligations_of(incident["id"])["GDPR-2"]
    response = api_client_for(manager).patch(
        f"/api/v1/obligations/{obligation['id']}/", {"status": "submitted"}, format="json"
    )
    assert response.status_code == 405
    assert Obligation.unscoped.get(pk=obligation["id"]).status == "pending"


def test_removing_a_regime_waives_its_pending_obligations(
    declare, patch_incident, obligations_of, api_client_for, handler
):
    incident = declare()
    patch_incident(incident["id"], regimes=["nis2", "dora"], aware_at=AWARE, rationale="Both apply")
    early = obligations_of(incident["id"])["NIS2-1"]
    api_client_for(handler).post(
        f"/api/v1/obligations/{early['id']}/submit/", {"reference": "REF-1"}, format="json"
    )

    patch_incident(incident["id"], regimes=["dora"], rationale="Not significant after all")

    obligations = obligations_of(incident["id"])
    assert obligations["NIS2-1"]["status"] == "submitted", "a submission stays a submission"
    for notice in ("NIS2-notification", "NIS2-5"):
        assert obligations[notice]["status"] == "waived"
        assert obligations[notice]["waived_rationale"] == (
            "regime removed from the incident: Not significant after all"
        )
    assert obligations["DORA-initial"]["status"] == "pending"


def test_conditions_on_the_number_of_people(tenant, declare, patch_incident, obligations_of):
    tenant.settings = {"regimes": ["hipaa"]}
    tenant.save(update_fields=["settings"])
    incident = declare()
    patch_incident(
        incident["id"],
        personal_data_breach=True,
        discovered_at="2026-03-02T10:00:00-05:00",
        affected_data_subjects=120,
    )
    obligations = obligations_of(incident["id"])
    # 120 people: no HHS notice within 60 days (the yearly log HIPAA-4 instead), no media notice.
    assert set(obligations) == {"HIPAA-1", "HIPAA-4"}
    assert at(obligations["HIPAA-1"]["due_at"]) == at("2026-05-01T10:00:00-04:00")  # 60 days, local time

    patch_incident(incident["id"], affected_data_subjects=5000)
    # 500 or more: the 60-day HHS and media notices; released from the (pending) yearly log.
    assert set(obligations_of(incident["id"])) == {"HIPAA-1", "HIPAA-2", "HIPAA-3"}


def test_on_demand_obligations_are_opened_by_hand(
    declare, patch_incident, obligations_of, api_client_for, handler
):
    incident = declare()
    patch_incident(incident["id"], regimes=["nis2"], aware_at=AWARE, rationale="Significant")
    client = api_client_for(handler)
    steps = {
        step["code"]: step
        for step in client.get("/api/v1/regimes/", {"code": "nis2"}).json()["results"][0]["steps"]
    }

    no_anchor = client.post(
        "/api/v1/obligations/", {"incident": incident["id"], "step": steps["NIS2-4"]["id"]}, format="json"
    )
    assert no_anchor.status_code == 400
    assert "anchor_at" in no_anchor.json()
    automatic = client.post(
        "/api/v1/obligations/", {"incident": incident["id"], "step": steps["NIS2-1"]["id"]}, format="json"
    )
    assert automatic.status_code == 400

    response = client.post(
        "/api/v1/obligations/",
        {"incident": incident["id"], "step": steps["NIS2-4"]["id"], "anchor_at": "2026-04-02T09:00:00+02:00"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending"
    assert at(response.json()["clock_started_at"]) == at("2026-04-02T09:00:00+02:00")
    assert at(response.json()["due_at"]) == at("2026-04-03T09:00:00+02:00")  # no legal period: the SLA
    duplicate = client.post(
        "/api/v1/obligations/",
        {"incident": incident["id"], "step": steps["NIS2-4"]["id"], "anchor_at": "2026-04-02T09:00:00+02:00"},
        format="json",
    )
    assert duplicate.status_code == 409


def test_list_filters(gdpr_tenant, declare, patch_incident, api_client_for, manager):
    incident = declare()
    patch_incident(incident["id"], personal_data_breach=True, aware_at=AWARE)
    recent = declare(title="Fresh one")
    patch_incident(recent["id"], personal_data_breach=True, aware_at=timezone.now().isoformat())
    client = api_client_for(manager)

    def notices(**params):
        response = client.get("/api/v1/obligations/", params)
        assert response.status_code == 200, response.json()
        return sorted((row["incident"], row["notice"]) for row in response.json()["results"])

    assert notices(status="overdue") == sorted([(incident["id"], "GDPR-2"), (incident["id"], "GDPR-4")])
    assert len(notices(status="pending")) == 4
    assert notices(regime="nis2") == []
    assert len(notices(due_before="2026-04-01T00:00:00Z")) == 2
    assert len(notices(incident=recent["id"])) == 2


def test_obligations_follow_incident_visibility(
    gdpr_tenant, declare, patch_incident, obligations_of, api_client_for, make_member, handler
):
    incident = declare(restricted=True)
    patch_incident(incident["id"], personal_data_breach=True, aware_at=AWARE)
    obligation = obligations_of(incident["id"])["GDPR-2"]
    url = f"/api/v1/obligations/{obligation['id']}/"

    assert api_client_for(handler).get(url).status_code == 404, "need-to-know"
    executive = make_member(RoleId.EXECUTIVE, gdpr_tenant)  # sees the incident as its summary only
    assert api_client_for(executive).get(url).status_code == 404, "an obligation is not part of a summary"
    assert api_client_for(make_member(RoleId.AUDITOR, gdpr_tenant)).get(url).status_code == 200
    reporter = make_member(RoleId.REPORTER, gdpr_tenant)
    assert api_client_for(reporter).get("/api/v1/obligations/").status_code == 403

    other_manager = make_member(RoleId.MANAGER, TenantFactory())
    client = api_client_for(other_manager)
    assert client.get(url).status_code == 404
    waive = client.post(f"{url}waive/", {"rationale": "mine now"}, format="json")
    assert waive.status_code == 404
    assert Obligation.unscoped.get(pk=obligation["id"]).status == "pending"


def test_an_authority_of_the_jurisdiction_is_named_as_recipient(
    gdpr_tenant, declare, patch_incident, obligations_of
):
    cnil = Authority.unscoped.create(
        tenant=gdpr_tenant,
        kind="supervisory_authority",
        name="CNIL",
        jurisdiction="FR",
        country="FR",
        regimes=["gdpr"],
        portal_url="https://notifications.cnil.fr/",
    )
    incident = declare()
    patch_incident(incident["id"], personal_data_breach=True, aware_at=AWARE)
    obligations = obligations_of(incident["id"])
    assert obligations["GDPR-2"]["authority"] == str(cnil.pk)
    assert obligations["GDPR-2"]["recipient"] == "CNIL"
    assert obligations["GDPR-4"]["authority"] is None, "data subjects are not an authority"
    assert obligations["GDPR-4"]["recipient"] == "Data subjects"
