from apps.notifications.models import Notification


def test_an_escalated_incident_reaches_executives_and_managers_once(api_client_for, make_member, tenant):
    manager = make_member("manager", tenant)
    executive = make_member("executive", tenant)
    handler = make_member("handler", tenant)
    client = api_client_for(manager)
    body = {"tenant": str(tenant.id), "title": "Ransomware", "impact": "critical", "urgency": "critical"}
    incident = client.post("/api/v1/incidents/", body, format="json").json()
    client.patch(f"/api/v1/incidents/{incident['id']}/", {"title": "Ransomware on payroll"}, format="json")

    told = Notification.unscoped.filter(kind="incident.escalated", incident_id=incident["id"])
    assert sorted(n.user_id for n in told) == sorted([manager.pk, executive.pk])
    assert handler.pk not in {n.user_id for n in told}
    assert told.first().subject.startswith("P1 incident")


def test_below_the_threshold_nobody_is_escalated_to(api_client_for, make_member, tenant):
    manager = make_member("manager", tenant)
    make_member("executive", tenant)
    body = {"tenant": str(tenant.id), "title": "Spam", "impact": "low", "urgency": "low"}
    api_client_for(manager).post("/api/v1/incidents/", body, format="json")
    assert not Notification.unscoped.filter(kind="incident.escalated").exists()
