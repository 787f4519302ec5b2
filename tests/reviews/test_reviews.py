import pytest

from apps.audit.models import AuditEntry
from apps.response.models import TimelineEntry
from apps.reviews.models import Review
from tests.factories import IncidentFactory
from tests.reviews.factories import ReviewFactory

TEXTS = {"root_cause": "An unpatched VPN appliance", "lessons_learned": "Patch edge devices within 48 hours"}


def test_a_manager_opens_a_draft_review_and_it_lands_on_the_timeline(incident, manager, api_client_for):
    response = api_client_for(manager).post(
        "/api/v1/reviews/",
        {"incident": str(incident.pk), "timeline_summary": "Detected Monday, contained Tuesday"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["incident"] == str(incident.pk)
    assert body["incident_reference"] == incident.reference
    assert body["created_by"] == str(manager.pk)
    assert TimelineEntry.unscoped.filter(incident=incident, verb="review.created").exists()
    assert AuditEntry.unscoped.filter(incident_id=incident.pk, verb="review.created").exists()


def test_only_managers_write_reviews(incident, handler, api_client_for, review_of):
    client = api_client_for(handler)
    assert client.post("/api/v1/reviews/", {"incident": str(incident.pk)}, format="json").status_code == 403
    review = review_of(incident)
    patched = client.patch(f"/api/v1/reviews/{review['id']}/", {"root_cause": "x"}, format="json")
    assert patched.status_code == 403
    # …but whoever reads the incident reads its review.
    assert client.get(f"/api/v1/reviews/{review['id']}/").status_code == 200


def test_one_review_per_incident(incident, manager, api_client_for, review_of):
    review_of(incident)
    again = api_client_for(manager).post("/api/v1/reviews/", {"incident": str(incident.pk)}, format="json")
    assert again.status_code == 400
    assert "incident" in again.json()
    assert Review.unscoped.filter(incident=incident).count() == 1


def test_status_is_never_written_directly(incident, manager, api_client_for, review_of):
    client = api_client_for(manager)
    created = client.post(
        "/api/v1/reviews/", {"incident": str(incident.pk), "status": "completed"}, format="json"
    )
    assert created.status_code == 400
    assert "status" in created.json()
    review = review_of(incident, **TEXTS)
    patched = client.patch(f"/api/v1/reviews/{review['id']}/", {"status": "completed"}, format="json")
    assert patched.status_code == 400
    assert "status" in patched.json()
    assert Review.unscoped.get(pk=review["id"]).status == "draft"


@pytest.mark.parametrize("role", ["handler", "investigator", "auditor", "executive"])
def test_completing_needs_an_approving_manager(
    role, incident, make_member, tenant, api_client_for, review_of
):
    review = review_of(incident, **TEXTS)
    client = api_client_for(make_member(role, tenant))
    assert client.post(f"/api/v1/reviews/{review['id']}/complete/").status_code == 403
    assert Review.unscoped.get(pk=review["id"]).status == "draft"


@pytest.mark.parametrize(
    ("texts", "missing"),
    [
        ({"lessons_learned": "Patch faster"}, "root_cause"),
        ({"root_cause": "VPN", "lessons_learned": "   "}, "lessons_learned"),
        ({}, "root_cause and lessons_learned"),
    ],
)
def test_completing_needs_root_cause_and_lessons(
    texts, missing, incident, manager, api_client_for, review_of
):
    review = review_of(incident, **texts)
    response = api_client_for(manager).post(f"/api/v1/reviews/{review['id']}/complete/")
    assert response.status_code == 409
    assert missing in response.json()["detail"]
    assert Review.unscoped.get(pk=review["id"]).status == "draft"


def test_a_completed_review_is_approved_and_frozen(incident, manager, api_client_for, review_of):
    client = api_client_for(manager)
    review = review_of(incident, **TEXTS)
    completed = client.post(f"/api/v1/reviews/{review['id']}/complete/")
    assert completed.status_code == 200, completed.json()
    body = completed.json()
    assert body["status"] == "completed"
    assert body["approved_by"] == str(manager.pk)
    assert body["completed_at"] is not None
    assert TimelineEntry.unscoped.filter(incident=incident, verb="review.completed").exists()

    frozen = client.patch(f"/api/v1/reviews/{review['id']}/", {"lessons_learned": "Rewritten"}, format="json")
    assert frozen.status_code == 409
    assert "frozen" in frozen.json()["detail"]
    assert Review.unscoped.get(pk=review["id"]).lessons_learned == TEXTS["lessons_learned"]
    assert client.post(f"/api/v1/reviews/{review['id']}/complete/").status_code == 409


def test_drafts_are_edited_and_each_edit_recorded(incident, manager, api_client_for, review_of):
    client = api_client_for(manager)
    review = review_of(incident)
    response = client.patch(
        f"/api/v1/reviews/{review['id']}/", {"went_well": "Fast containment", "typo": "x"}, format="json"
    )
    assert response.status_code == 400  # strict: an unknown field is named, nothing changes
    assert "typo" in response.json()
    response = client.patch(
        f"/api/v1/reviews/{review['id']}/", {"went_well": "Fast containment"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["went_well"] == "Fast containment"
    entry = TimelineEntry.unscoped.get(incident=incident, verb="review.updated")
    assert entry.data["changes"]["went_well"] == ["", "Fast containment"]


def test_list_filters(tenant, manager, api_client_for):
    draft = ReviewFactory(incident=IncidentFactory(tenant=tenant))
    done = ReviewFactory(incident=IncidentFactory(tenant=tenant), status="completed")
    client = api_client_for(manager)

    def ids(query):
        response = client.get(f"/api/v1/reviews/?{query}")
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids("") == {str(draft.pk), str(done.pk)}
    assert ids("status=completed") == {str(done.pk)}
    assert ids(f"incident={draft.incident_id}") == {str(draft.pk)}
    assert ids(f"tenant={tenant.pk}") == {str(draft.pk), str(done.pk)}
    assert client.get("/api/v1/reviews/?status=approved").status_code == 400


def test_need_to_know_incidents_hide_their_reviews(tenant, make_member, api_client_for):
    review = ReviewFactory(incident=IncidentFactory(tenant=tenant, restricted=True))
    url = f"/api/v1/reviews/{review.pk}/"
    assert api_client_for(make_member("handler", tenant)).get(url).status_code == 404
    # An executive sees a restricted incident as its title and severity only: not its review.
    executive = api_client_for(make_member("executive", tenant))
    assert executive.get(url).status_code == 404
    assert executive.get("/api/v1/reviews/").json()["results"] == []
    assert api_client_for(make_member("manager", tenant)).get(url).status_code == 200


def test_another_tenants_review_is_404(incident, review_of, make_member, other_tenant, api_client_for):
    review = review_of(incident, **TEXTS)
    action = api_client_for(make_member("manager", incident.tenant)).post(
        f"/api/v1/reviews/{review['id']}/actions/", {"title": "Patch the VPN"}, format="json"
    )
    assert action.status_code == 201
    intruder = api_client_for(make_member("manager", other_tenant))
    base = f"/api/v1/reviews/{review['id']}/"
    assert intruder.get(base).status_code == 404
    assert intruder.patch(base, {"root_cause": "Taken over"}, format="json").status_code == 404
    assert intruder.post(f"{base}complete/").status_code == 404
    assert intruder.get(f"{base}actions/").status_code == 404
    assert intruder.post(f"{base}actions/", {"title": "Planted"}, format="json").status_code == 404
    action_url = f"{base}actions/{action.json()['id']}/"
    assert intruder.get(action_url).status_code == 404
    assert intruder.patch(action_url, {"status": "cancelled"}, format="json").status_code == 404
    assert intruder.get("/api/v1/reviews/").json()["results"] == []
    assert intruder.get("/api/v1/corrective-actions/").json()["results"] == []
    planted = intruder.post("/api/v1/reviews/", {"incident": str(incident.pk)}, format="json")
    assert planted.status_code == 400
    assert "incident" in planted.json()
    assert Review.unscoped.get(pk=review["id"]).root_cause == TEXTS["root_cause"]
    assert Review.unscoped.get(pk=review["id"]).status == "draft"


@pytest.mark.parametrize(
    "path", ["/api/v1/reviews/xyz/", "/api/v1/reviews/xyz/actions/", "/api/v1/reviews/xyz/actions/abc/"]
)
def test_non_uuid_ids_are_404(path, manager, api_client_for):
    assert api_client_for(manager).get(path).status_code == 404
