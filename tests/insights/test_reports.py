from datetime import timedelta

import pytest
from django.utils import timezone

from apps.catalog.models import Category
from apps.response.models import Incident
from tests.factories import MembershipFactory, TenantFactory


@pytest.fixture
def people(make_member, tenant):
    return {
        role: make_member(role, tenant) for role in ("reporter", "handler", "manager", "auditor", "executive")
    }


@pytest.fixture
def story(people, tenant, api_client_for):
    """Three reports: one becomes an incident worked to closure without a review, one is no incident,
    one is never assessed."""
    reporter, handler, manager = (api_client_for(people[r]) for r in ("reporter", "handler", "manager"))
    phishing = Category.unscoped.get(code="phishing", tenant=None)

    def report(title):
        body = {
            "tenant": str(tenant.id),
            "kind": "event",
            "title": title,
            "occurred_at": timezone.now().isoformat(),
        }
        response = reporter.post("/api/v1/reports/", body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()["id"]

    first, second, _never = report("Odd e-mail"), report("Printer jam"), report("USB stick in car park")
    decided = handler.post(
        f"/api/v1/reports/{first}/assessment/",
        {
            "decision": "incident",
            "category": str(phishing.id),
            "impact": "high",
            "urgency": "high",
            "rationale": "Credential phishing",
        },
        format="json",
    )
    assert decided.status_code == 201, decided.json()
    handler.post(
        f"/api/v1/reports/{second}/assessment/",
        {"decision": "not_incident", "rationale": "Hardware"},
        format="json",
    )
    incident_id = decided.json()["incident"]
    for to in ["investigating", "contained", "recovered"]:
        assert (
            handler.post(
                f"/api/v1/incidents/{incident_id}/transition/", {"to": to}, format="json"
            ).status_code
            == 200
        )
    manager.patch(f"/api/v1/incidents/{incident_id}/", {"root_cause": "No MFA"}, format="json")
    # P2 needs a completed review to close: the manager writes and completes one, then closes.
    review = manager.post("/api/v1/reviews/", {"incident": incident_id}, format="json").json()
    manager.patch(
        f"/api/v1/reviews/{review['id']}/",
        {"root_cause": "No MFA", "lessons_learned": "Enforce MFA"},
        format="json",
    )
    assert manager.post(f"/api/v1/reviews/{review['id']}/complete/").status_code == 200
    assert (
        manager.post(
            f"/api/v1/incidents/{incident_id}/transition/", {"to": "closed"}, format="json"
        ).status_code
        == 200
    )
    return {"incident": incident_id}


def _section(report, control):
    return next(s for s in report["controls"] if s["control"] == control)


def _gap(section, code):
    return next(g for g in section["gaps"] if g["code"] == code)


def test_the_iso_report_shows_records_and_gaps_per_control(story, people, api_client_for, tenant):
    report = api_client_for(people["auditor"]).get("/api/v1/compliance/iso27001/").json()
    assert [s["control"] for s in report["controls"]] == ["5.24", "6.8", "5.25", "5.26", "5.27", "5.28"]
    assert _section(report, "6.8")["iso27001_2013"] == ["A.16.1.2", "A.16.1.3"]
    assert _section(report, "6.8")["records"]["reports"] == 3
    assessment = _section(report, "5.25")
    assert assessment["records"]["by_decision"] == {"incident": 1, "not_incident": 1}
    never = _gap(assessment, "never_assessed")
    assert never["count"] == 1
    assert never["items"][0]["reference"].startswith(tenant.reference_prefix)
    assert _section(report, "5.26")["records"]["state_changes"] == 4
    learning = _section(report, "5.27")
    assert learning["records"]["reviews_completed"] == 1
    assert _gap(learning, "closed_without_review")["count"] == 0
    assert _gap(_section(report, "5.24"), "no_incident_manager")["count"] == 0


def test_an_incident_closed_without_review_is_a_gap(people, api_client_for, tenant, declare_closed):
    declare_closed(severity_pair=("low", "low"))
    report = api_client_for(people["manager"]).get("/api/v1/compliance/iso27001/").json()
    gap = _gap(_section(report, "5.27"), "closed_without_review")
    assert gap["count"] == 1


@pytest.fixture
def declare_closed(people, api_client_for, tenant):
    def make(severity_pair):
        manager = api_client_for(people["manager"])
        body = {
            "tenant": str(tenant.id),
            "title": "Lost badge",
            "impact": severity_pair[0],
            "urgency": severity_pair[1],
        }
        incident = manager.post("/api/v1/incidents/", body, format="json").json()
        for to in ["investigating", "contained", "recovered"]:
            manager.post(f"/api/v1/incidents/{incident['id']}/transition/", {"to": to}, format="json")
        manager.patch(
            f"/api/v1/incidents/{incident['id']}/", {"root_cause": "Badge left on train"}, format="json"
        )
        assert (
            manager.post(
                f"/api/v1/incidents/{incident['id']}/transition/", {"to": "closed"}, format="json"
            ).status_code
            == 200
        )
        return incident

    return make


def test_the_report_is_printable_html(story, people, api_client_for):
    response = api_client_for(people["auditor"]).get("/api/v1/compliance/iso27001/?format=html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "A.5.27 Learning from information security incidents" in body
    assert "2013: A.16.1.6" in body


def test_metrics(story, people, api_client_for):
    incident = Incident.unscoped.get(pk=story["incident"])
    Incident.unscoped.filter(pk=incident.pk).update(
        contained_at=incident.declared_at + timedelta(hours=3),
        closed_at=incident.declared_at + timedelta(hours=30),
    )
    metrics = api_client_for(people["manager"]).get("/api/v1/metrics/").json()
    assert metrics["time_to_hours"]["contain"] == {"count": 1, "mean": 3.0, "median": 3.0}
    assert metrics["time_to_hours"]["close"]["median"] == 30.0
    assert metrics["time_to_hours"]["assess"]["count"] == 2
    assert metrics["incidents"]["by_severity"] == {"P2": 1}
    assert metrics["incidents"]["by_category"] == {"phishing": 1}
    assert metrics["reports"]["by_kind"] == {"event": 3}


@pytest.mark.parametrize("role", ["reporter", "handler"])
def test_only_overseeing_roles_read_the_reports(people, api_client_for, role):
    client = api_client_for(people[role])
    assert client.get("/api/v1/compliance/iso27001/").status_code == 403
    assert client.get("/api/v1/metrics/").status_code == 403


def test_another_tenants_figures_stay_out(story, api_client_for, make_member, other_tenant):
    outsider_auditor = make_member("auditor", other_tenant)
    report = api_client_for(outsider_auditor).get("/api/v1/compliance/iso27001/").json()
    assert _section(report, "6.8")["records"]["reports"] == 0
    assert [t["id"] for t in report["tenants"]] == [str(other_tenant.id)]


@pytest.mark.parametrize(
    ("query", "field"),
    [("from=2026-13-01", "from"), ("to=yesterday", "to"), ("from=2026-05-01&to=2026-04-01", "from")],
)
def test_bad_periods_are_400(people, api_client_for, query, field):
    response = api_client_for(people["auditor"]).get(f"/api/v1/metrics/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_a_tenant_without_an_incident_manager_is_a_gap_unless_inherited(db, make_member, api_client_for):
    group = TenantFactory()
    covered = TenantFactory(parent=group)
    orphan_root = TenantFactory()
    make_member("manager", group)
    executive = make_member("executive", group)
    MembershipFactory(user=executive, tenant=orphan_root, role="executive")
    report = api_client_for(executive).get("/api/v1/compliance/iso27001/").json()
    gap = _gap(_section(report, "5.24"), "no_incident_manager")
    assert [item["name"] for item in gap["items"]] == [orphan_root.name]
    assert covered.name not in str(gap)
