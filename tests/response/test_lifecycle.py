import pytest

from apps.audit.models import AuditEntry
from apps.response import lifecycle
from apps.response.models import Incident, TimelineEntry


def _move(client, incident_id, to, note=""):
    return client.post(
        f"/api/v1/incidents/{incident_id}/transition/", {"to": to, "note": note}, format="json"
    )


def test_declaring_derives_severity_and_a_reference(declare, tenant):
    incident = declare(impact="high", urgency="critical")
    assert incident["severity"] == "P1"
    assert incident["status"] == "declared"
    assert incident["reference"].startswith(f"{tenant.reference_prefix}-")
    assert incident["aware_at"] is not None  # defaults to the decision time
    assert declare(impact="low", urgency="medium")["severity"] == "P4"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"severity": "P1"}, "severity"),  # never typed in
        ({"impact": "enormous"}, "impact"),
        ({"urgency": ""}, "urgency"),
    ],
)
def test_severity_is_derived_never_typed(api_client_for, manager, tenant, body, field):
    payload = {"tenant": str(tenant.id), "title": "x", "impact": "low", "urgency": "low", **body}
    response = api_client_for(manager).post("/api/v1/incidents/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_handlers_may_not_declare_directly(api_client_for, handler, tenant):
    body = {"tenant": str(tenant.id), "title": "x", "impact": "low", "urgency": "low"}
    assert api_client_for(handler).post("/api/v1/incidents/", body, format="json").status_code == 403


def test_the_full_path_with_allowed_transitions(declare, api_client_for, handler, manager):
    incident = declare()
    assert incident["allowed_transitions"] == ["investigating"]
    h = api_client_for(handler)
    for to in ["investigating", "contained", "eradicated", "recovered"]:
        response = _move(h, incident["id"], to)
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == to
    # A handler goes no further than recovered.
    assert h.get(f"/api/v1/incidents/{incident['id']}/").json()["allowed_transitions"] == []
    assert _move(h, incident["id"], "closed").status_code == 403

    m = api_client_for(manager)
    blocked = _move(m, incident["id"], "closed")
    assert blocked.status_code == 409
    assert "root_cause" in blocked.json()["detail"]
    assert (blocked.json()["code"], blocked.json()["fix"]) == ("blocked", "root_cause")
    assert m.get(f"/api/v1/incidents/{incident['id']}/").json()["allowed_transitions"] == []
    assert (
        m.patch(
            f"/api/v1/incidents/{incident['id']}/", {"root_cause": "MFA fatigue"}, format="json"
        ).status_code
        == 200
    )
    assert m.get(f"/api/v1/incidents/{incident['id']}/").json()["allowed_transitions"] == ["closed"]
    closed = _move(m, incident["id"], "closed")
    assert closed.status_code == 200
    assert closed.json()["closed_at"] is not None


def test_a_disallowed_move_is_409_with_the_reason(declare, api_client_for, handler):
    incident = declare()
    response = _move(api_client_for(handler), incident["id"], "recovered")
    assert response.status_code == 409
    assert "cannot move from declared to recovered" in response.json()["detail"]
    assert Incident.unscoped.get(pk=incident["id"]).status == "declared"


def test_status_is_never_patched(declare, api_client_for, manager):
    incident = declare()
    response = api_client_for(manager).patch(
        f"/api/v1/incidents/{incident['id']}/", {"status": "closed"}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.json()
    assert Incident.unscoped.get(pk=incident["id"]).status == "declared"


def test_a_false_alarm_closes_from_investigation_with_a_rationale(declare, api_client_for, manager):
    incident = declare()
    m = api_client_for(manager)
    _move(m, incident["id"], "investigating")
    no_reason = _move(m, incident["id"], "closed")
    assert no_reason.status_code == 409
    assert "rationale" in no_reason.json()["detail"]
    closed = _move(m, incident["id"], "closed", note="Sender was our own marketing agency")
    assert closed.status_code == 200
    assert closed.json()["false_alarm"] is True
    assert closed.json()["close_rationale"] == "Sender was our own marketing agency"


def test_closed_incidents_are_frozen_until_reopened(declare, api_client_for, manager):
    incident = declare()
    m = api_client_for(manager)
    _move(m, incident["id"], "investigating")
    _move(m, incident["id"], "closed", note="false alarm")
    frozen = m.patch(f"/api/v1/incidents/{incident['id']}/", {"title": "changed"}, format="json")
    assert frozen.status_code == 409
    assert _move(m, incident["id"], "investigating").status_code == 409  # reopening needs a reason
    reopened = _move(m, incident["id"], "investigating", note="Same sender again, this time malicious")
    assert reopened.status_code == 200
    assert reopened.json()["closed_at"] is None
    assert (
        m.patch(f"/api/v1/incidents/{incident['id']}/", {"title": "changed"}, format="json").status_code
        == 200
    )
    verbs = TimelineEntry.unscoped.filter(incident_id=incident["id"], verb="incident.transitioned")
    assert [e.data["transition"] for e in verbs.order_by("at")] == [
        "investigation_started",
        "closed_as_false_alarm",
        "reopened",
    ]


def test_registered_guards_can_block_a_move(declare, api_client_for, manager):
    def needs_review(incident, transition):
        return lifecycle.Blocked("a completed review is required") if transition.target == "closed" else None

    lifecycle.register_transition_guard(needs_review)
    try:
        incident = declare()
        m = api_client_for(manager)
        _move(m, incident["id"], "investigating")
        response = _move(m, incident["id"], "closed", note="false alarm")
        assert response.status_code == 409
        assert response.json() == {"detail": "a completed review is required", "code": "blocked"}
    finally:
        lifecycle._guards.remove(needs_review)


def test_every_change_lands_on_the_timeline_and_the_audit_trail(declare, api_client_for, handler):
    incident = declare()
    h = api_client_for(handler)
    _move(h, incident["id"], "investigating")
    h.patch(
        f"/api/v1/incidents/{incident['id']}/", {"impact": "critical", "urgency": "critical"}, format="json"
    )
    timeline = h.get(f"/api/v1/incidents/{incident['id']}/timeline/").json()["results"]
    assert [e["verb"] for e in timeline] == [
        "incident.declared",
        "incident.transitioned",
        "incident.updated",
        "incident.escalated",
    ]
    assert timeline[1]["summary"] == "Status: Declared → Investigating"
    assert timeline[2]["data"]["changes"]["severity"] == ["P3", "P1"]
    audited = AuditEntry.unscoped.filter(incident_id=incident["id"]).values_list("verb", flat=True)
    assert set(audited) >= {
        "incident.declared",
        "incident.transitioned",
        "incident.updated",
        "incident.escalated",
    }


def test_escalation_happens_once_per_level(declare, api_client_for, manager):
    incident = declare(impact="critical", urgency="critical")
    m = api_client_for(manager)
    m.patch(f"/api/v1/incidents/{incident['id']}/", {"title": "renamed"}, format="json")
    m.patch(f"/api/v1/incidents/{incident['id']}/", {"impact": "critical", "urgency": "high"}, format="json")
    assert AuditEntry.unscoped.filter(incident_id=incident["id"], verb="incident.escalated").count() == 1


def test_manual_observations_and_communications(declare, api_client_for, handler):
    incident = declare()
    h = api_client_for(handler)
    url = f"/api/v1/incidents/{incident['id']}/timeline/"
    note = h.post(
        url, {"kind": "observation", "summary": "Mail gateway logs show 40 recipients"}, format="json"
    )
    assert note.status_code == 201
    incomplete = h.post(url, {"kind": "communication", "summary": "Called the bank"}, format="json")
    assert incomplete.status_code == 400
    assert "counterpart" in incomplete.json()
    call = h.post(
        url,
        {
            "kind": "communication",
            "summary": "Warned staff",
            "direction": "internal",
            "counterpart": "All staff",
            "channel": "e-mail",
        },
        format="json",
    )
    assert call.status_code == 201
    assert call.json()["actor_repr"] == handler.username
    assert h.post(url, {"kind": "automatic", "summary": "forged"}, format="json").status_code == 400


def test_flags_and_clock_anchors_are_managers_and_audited(declare, api_client_for, handler, manager):
    incident = declare()
    url = f"/api/v1/incidents/{incident['id']}/"
    assert (
        api_client_for(handler).patch(url, {"personal_data_breach": True}, format="json").status_code == 403
    )
    m = api_client_for(manager)
    no_reason = m.patch(url, {"regimes": ["nis2"]}, format="json")
    assert no_reason.status_code == 400
    assert "rationale" in no_reason.json()
    response = m.patch(
        url,
        {
            "personal_data_breach": True,
            "aware_at": "2026-11-20T08:00:00+01:00",
            "regimes": ["nis2"],
            "rationale": "Significant: 2 days of outage of an essential service",
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["aware_at"] == "2026-11-20T07:00:00Z"
    flags = AuditEntry.unscoped.get(incident_id=incident["id"], verb="incident.flags_changed")
    assert set(flags.changes) == {"personal_data_breach", "aware_at", "regimes"}
    assert flags.data["rationale"].startswith("Significant")
    bad = m.patch(url, {"regimes": ["gdpr", "made-up"], "rationale": "x"}, format="json")
    assert bad.status_code == 400
    assert "regimes" in bad.json()


def test_a_personal_data_breach_brings_the_tenants_data_protection_regimes(
    declare, api_client_for, manager, tenant
):
    tenant.settings = {"regimes": ["gdpr", "nis2"]}
    tenant.save(update_fields=["settings"])
    incident = declare()
    response = api_client_for(manager).patch(
        f"/api/v1/incidents/{incident['id']}/", {"personal_data_breach": True}, format="json"
    )
    # GDPR joins by itself; NIS2 is a sector regime that joins only by a manager's classification.
    assert response.json()["regimes"] == ["gdpr"]


def test_response_actions(declare, api_client_for, handler, manager):
    incident = declare()
    h = api_client_for(handler)
    url = f"/api/v1/incidents/{incident['id']}/actions/"
    born_done = h.post(url, {"title": "Block sender domain", "status": "done"}, format="json")
    assert born_done.status_code == 400  # an action starts open
    assert "status" in born_done.json()
    created = h.post(url, {"title": "Block sender domain", "assignee": str(handler.pk)}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "open"
    action_url = f"{url}{created.json()['id']}/"
    done = h.patch(action_url, {"status": "done"}, format="json")
    assert done.status_code == 200
    assert done.json()["completed_at"] is not None
    assert h.patch(action_url, {"status": "cancelled"}, format="json").status_code == 400
    assert h.patch(action_url, {"status": "open"}, format="json").json()["completed_at"] is None
    assert [a["title"] for a in h.get(url).json()["results"]] == ["Block sender domain"]
    verbs = [e["verb"] for e in h.get(f"/api/v1/incidents/{incident['id']}/timeline/").json()["results"]]
    assert verbs.count("action.updated") == 2


def test_milestones_record_the_first_time_reached(declare, api_client_for, manager):
    incident = declare()
    m = api_client_for(manager)
    for to in ["investigating", "contained"]:
        _move(m, incident["id"], to)
    first = m.get(f"/api/v1/incidents/{incident['id']}/").json()["contained_at"]
    assert first is not None
    for to in ["recovered"]:
        _move(m, incident["id"], to)
    m.patch(f"/api/v1/incidents/{incident['id']}/", {"root_cause": "x"}, format="json")
    _move(m, incident["id"], "closed")
    _move(m, incident["id"], "investigating", note="again")
    _move(m, incident["id"], "contained")
    again = m.get(f"/api/v1/incidents/{incident['id']}/").json()
    assert again["contained_at"] == first
    assert again["recovered_at"] is not None


def test_a_tenants_own_regime_can_be_placed_on_its_incidents_only(
    declare, api_client_for, manager, tenant, other_tenant
):
    from apps.catalog.models import Regime

    Regime.unscoped.create(tenant=tenant, code="acme-contract", name="Acme customer contract")
    Regime.unscoped.create(tenant=other_tenant, code="their-contract", name="Not ours")
    incident = declare()
    url = f"/api/v1/incidents/{incident['id']}/"
    m = api_client_for(manager)
    ok = m.patch(url, {"regimes": ["acme-contract", "gdpr"], "rationale": "Customer data"}, format="json")
    assert ok.status_code == 200, ok.json()
    assert ok.json()["regimes"] == ["acme-contract", "gdpr"]
    foreign = m.patch(url, {"regimes": ["their-contract"], "rationale": "x"}, format="json")
    assert foreign.status_code == 400
    assert "their-contract" in str(foreign.json()["regimes"])
