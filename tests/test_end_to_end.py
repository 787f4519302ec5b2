"""The whole path through the API, for two departments at once, with the foundation's rules holding."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.catalog.models import Category
from tests.factories import MembershipFactory, TenantFactory, UserFactory

ROLES = ("reporter", "handler", "manager", "auditor")


@pytest.fixture
def group(db):
    root = TenantFactory(name="Group")
    departments = [TenantFactory(name=name, parent=root) for name in ("Finance", "Engineering")]
    people = {}
    for department in departments:
        for role in ROLES:
            user = UserFactory(username=f"{department.name.lower()}-{role}")
            MembershipFactory(user=user, tenant=department, role=role)
            people[(department.name, role)] = user
    executive = UserFactory(username="executive")
    MembershipFactory(user=executive, tenant=root, role="executive")
    return {"departments": departments, "people": people, "executive": executive}


def _work_one_department(department, people, api_client_for):
    name = department.name
    reporter, handler, manager = (
        api_client_for(people[(name, role)]) for role in ("reporter", "handler", "manager")
    )
    filed = reporter.post(
        "/api/v1/reports/",
        {
            "tenant": str(department.id),
            "kind": "event",
            "title": f"{name}: suspicious invoice e-mail",
            "occurred_at": timezone.now().isoformat(),
            "confidential": True,
        },
        format="json",
    )
    assert filed.status_code == 201, filed.json()
    report = filed.json()
    assert report["reference"].startswith(department.reference_prefix)

    queue = handler.get("/api/v1/reports/?status=new").json()["results"]
    assert [r["id"] for r in queue] == [report["id"]]
    assert queue[0].get("reporter") is None  # confidential: not for handlers

    phishing = Category.unscoped.get(code="phishing", tenant=None)
    decision = handler.post(
        f"/api/v1/reports/{report['id']}/assessment/",
        {
            "decision": "incident",
            "category": str(phishing.id),
            "impact": "high",
            "urgency": "high",
            "rationale": "Credential harvesting page reached by 3 staff",
        },
        format="json",
    )
    assert decision.status_code == 201, decision.json()
    incident_id = decision.json()["incident"]
    url = f"/api/v1/incidents/{incident_id}/"

    for to in ("investigating", "contained"):
        assert handler.post(f"{url}transition/", {"to": to}, format="json").status_code == 200
    action = handler.post(f"{url}actions/", {"title": "Reset the three passwords"}, format="json").json()
    handler.patch(f"{url}actions/{action['id']}/", {"status": "done"}, format="json")
    handler.post(
        f"{url}timeline/",
        {
            "kind": "communication",
            "summary": "Told staff",
            "direction": "internal",
            "counterpart": "All staff",
        },
        format="json",
    )
    assert handler.post(f"{url}transition/", {"to": "recovered"}, format="json").status_code == 200
    manager.patch(url, {"root_cause": "No MFA on webmail"}, format="json")
    blocked = manager.post(f"{url}transition/", {"to": "closed"}, format="json")
    assert blocked.status_code == 409  # P2: a completed review first
    review = manager.post("/api/v1/reviews/", {"incident": incident_id}, format="json").json()
    manager.patch(
        f"/api/v1/reviews/{review['id']}/",
        {"root_cause": "No MFA on webmail", "lessons_learned": "Enforce MFA for webmail"},
        format="json",
    )
    manager.post(f"/api/v1/reviews/{review['id']}/actions/", {"title": "Roll out MFA"}, format="json")
    assert manager.post(f"/api/v1/reviews/{review['id']}/complete/").status_code == 200
    closed = manager.post(f"{url}transition/", {"to": "closed"}, format="json")
    assert closed.status_code == 200, closed.json()
    return incident_id


def test_report_to_lessons_for_two_departments(group, api_client_for):
    people = group["people"]
    incidents = {d.name: _work_one_department(d, people, api_client_for) for d in group["departments"]}

    for department in group["departments"]:
        auditor = api_client_for(people[(department.name, "auditor")])
        seen = {row["id"] for row in auditor.get("/api/v1/incidents/").json()["results"]}
        assert seen == {incidents[department.name]}
        other = next(d for d in group["departments"] if d != department)
        assert auditor.get(f"/api/v1/incidents/{incidents[other.name]}/").status_code == 404
        timeline = auditor.get(f"/api/v1/incidents/{incidents[department.name]}/timeline/").json()["results"]
        verbs = [entry["verb"] for entry in timeline]
        assert verbs[0] == "incident.declared"
        assert "assessment.recorded" in verbs
        assert "review.completed" in verbs
        assert verbs[-1] == "incident.transitioned"
        lessons = auditor.get("/api/v1/lessons/?q=MFA").json()["results"]
        assert [hit["incident"] for hit in lessons] == [incidents[department.name]]
        report = auditor.get("/api/v1/compliance/iso27001/").json()
        learning = next(s for s in report["controls"] if s["control"] == "5.27")
        assert learning["records"]["reviews_completed"] == 1

    executive = api_client_for(group["executive"])
    assert {row["id"] for row in executive.get("/api/v1/incidents/").json()["results"]} == set(
        incidents.values()
    )
    metrics = executive.get("/api/v1/metrics/").json()
    assert metrics["incidents"]["total"] == 2
    assert metrics["time_to_hours"]["close"]["count"] == 2

    # Nobody's identity leaked from the confidential reports into the audit trail.
    reporters = {str(people[(d.name, "reporter")].pk) for d in group["departments"]}
    filed = AuditEntry.unscoped.filter(verb="report.created")
    assert filed.count() == 2
    assert not {str(entry.actor_id) for entry in filed} & reporters
    call_command("verify_audit", database="default")  # this test's rows are not committed: its own connection
