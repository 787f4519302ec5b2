from datetime import timedelta

import pytest
from django.utils import timezone

from apps.response.models import TimelineEntry
from apps.reviews.models import CorrectiveAction
from tests.factories import IncidentFactory
from tests.reviews.factories import CompletedReviewFactory, CorrectiveActionFactory, ReviewFactory


@pytest.fixture
def review(incident):
    return ReviewFactory(incident=incident)


@pytest.fixture
def owned(review, handler):
    """An open action owned by the tenant's handler."""
    return CorrectiveActionFactory(review=review, owner=handler)


def _url(action) -> str:
    return f"/api/v1/reviews/{action.review_id}/actions/{action.pk}/"


def test_managers_add_actions_that_start_open(review, manager, handler, api_client_for):
    url = f"/api/v1/reviews/{review.pk}/actions/"
    body = {
        "title": "Patch the VPN appliances",
        "kind": "preventive",
        "owner": str(handler.pk),
        "due_at": "2026-12-31T17:00:00+01:00",
    }
    assert api_client_for(handler).post(url, body, format="json").status_code == 403
    client = api_client_for(manager)
    born_done = client.post(url, {**body, "status": "done"}, format="json")
    assert born_done.status_code == 400
    assert "status" in born_done.json()
    created = client.post(url, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "open"
    assert created.json()["incident"] == str(review.incident_id)
    assert created.json()["overdue"] is False
    assert [a["title"] for a in client.get(url).json()["results"]] == ["Patch the VPN appliances"]
    assert TimelineEntry.unscoped.filter(incident=review.incident, verb="corrective_action.created").exists()


def test_an_owner_is_a_member_of_the_incidents_tenant(
    review, manager, make_member, other_tenant, api_client_for
):
    stranger = make_member("handler", other_tenant)
    response = api_client_for(manager).post(
        f"/api/v1/reviews/{review.pk}/actions/", {"title": "x", "owner": str(stranger.pk)}, format="json"
    )
    assert response.status_code == 400
    assert "owner" in response.json()


def test_the_owner_moves_its_action_along_the_allowed_transitions(owned, handler, api_client_for):
    client = api_client_for(handler)
    skipped = client.patch(_url(owned), {"status": "done"}, format="json")
    assert skipped.status_code == 400
    assert "status" in skipped.json()
    assert client.patch(_url(owned), {"status": "in_progress"}, format="json").status_code == 200
    done = client.patch(_url(owned), {"status": "done"}, format="json")
    assert done.status_code == 200
    assert done.json()["completed_at"] is not None
    back = client.patch(_url(owned), {"status": "in_progress"}, format="json")
    assert back.json()["completed_at"] is None
    assert client.patch(_url(owned), {"status": "finished"}, format="json").status_code == 400
    verbs = TimelineEntry.unscoped.filter(incident_id=owned.review.incident_id).values_list("verb", flat=True)
    assert list(verbs).count("corrective_action.updated") == 3


def test_owners_may_not_steer_or_verify_and_others_may_not_touch(
    owned, handler, make_member, tenant, api_client_for
):
    client = api_client_for(handler)
    assert client.patch(_url(owned), {"due_at": None}, format="json").status_code == 403
    assert client.patch(_url(owned), {"status": "cancelled"}, format="json").status_code == 403
    colleague = api_client_for(make_member("handler", tenant))
    assert colleague.patch(_url(owned), {"status": "in_progress"}, format="json").status_code == 403
    assert colleague.get(_url(owned)).status_code == 200
    assert CorrectiveAction.unscoped.get(pk=owned.pk).status == "open"


def test_only_an_approving_manager_verifies_effectiveness_with_a_note(
    owned, handler, manager, api_client_for
):
    CorrectiveAction.unscoped.filter(pk=owned.pk).update(status="done", completed_at=timezone.now())
    assert (
        api_client_for(handler)
        .patch(_url(owned), {"status": "verified", "verification_note": "Scan is clean"}, format="json")
        .status_code
        == 403
    )
    client = api_client_for(manager)
    no_note = client.patch(_url(owned), {"status": "verified"}, format="json")
    assert no_note.status_code == 400
    assert "verification_note" in no_note.json()
    verified = client.patch(
        _url(owned),
        {"status": "verified", "verification_note": "External scan finds no exposed VPN"},
        format="json",
    )
    assert verified.status_code == 200, verified.json()
    assert verified.json()["verified_by"] == str(manager.pk)
    assert verified.json()["verified_at"] is not None
    for to in ["done", "open", "cancelled", "in_progress"]:
        final = client.patch(_url(owned), {"status": to}, format="json")
        assert final.status_code == 400
        assert "status" in final.json()


def test_only_done_actions_are_verified(owned, manager, api_client_for):
    response = api_client_for(manager).patch(
        _url(owned), {"status": "verified", "verification_note": "Looks fine"}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.json()


def test_a_manager_cancels_and_revives(owned, manager, api_client_for):
    client = api_client_for(manager)
    cancelled = client.patch(_url(owned), {"status": "cancelled"}, format="json")
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["status"] == "cancelled"
    assert client.patch(_url(owned), {"status": "done"}, format="json").status_code == 400
    assert client.patch(_url(owned), {"status": "open"}, format="json").status_code == 200


def test_actions_are_tracked_after_the_incident_closes(tenant, handler, manager, api_client_for):
    incident = IncidentFactory(tenant=tenant, severity="P1", status="recovered", root_cause="VPN")
    action = CorrectiveActionFactory(review=CompletedReviewFactory(incident=incident), owner=handler)
    m = api_client_for(manager)
    closed = m.post(f"/api/v1/incidents/{incident.pk}/transition/", {"to": "closed"}, format="json")
    assert closed.status_code == 200, closed.json()
    # The incident's own fields are frozen …
    assert m.patch(f"/api/v1/incidents/{incident.pk}/", {"title": "x"}, format="json").status_code == 409
    # … its corrective actions are not: progress, new actions, verification.
    assert (
        api_client_for(handler).patch(_url(action), {"status": "in_progress"}, format="json").status_code
        == 200
    )
    assert m.patch(_url(action), {"due_at": "2027-01-31T00:00:00Z"}, format="json").status_code == 200
    added = m.post(f"/api/v1/reviews/{action.review_id}/actions/", {"title": "Retest"}, format="json")
    assert added.status_code == 201
    assert TimelineEntry.unscoped.filter(incident=incident, verb="corrective_action.updated").count() == 2


def _ids(client, query=""):
    response = client.get(f"/api/v1/corrective-actions/?{query}")
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_overdue_filter_for_dashboards(tenant, other_tenant, make_member, api_client_for):
    past, future = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=1)
    review = ReviewFactory(incident=IncidentFactory(tenant=tenant))
    late = CorrectiveActionFactory(review=review, due_at=past)
    late_started = CorrectiveActionFactory(review=review, due_at=past, status="in_progress")
    others = [
        CorrectiveActionFactory(review=review, due_at=future),
        CorrectiveActionFactory(review=review, due_at=None),
        CorrectiveActionFactory(review=review, due_at=past, status="done"),
        CorrectiveActionFactory(review=review, due_at=past, status="verified"),
        CorrectiveActionFactory(review=review, due_at=past, status="cancelled"),
    ]
    CorrectiveActionFactory(review=ReviewFactory(incident=IncidentFactory(tenant=other_tenant)), due_at=past)
    client = api_client_for(make_member("executive", tenant))
    assert _ids(client, "overdue=true") == {str(late.pk), str(late_started.pk)}
    assert _ids(client, "overdue=false") == {str(a.pk) for a in others}
    assert len(_ids(client)) == 7  # another tenant's actions never appear
    rows = client.get("/api/v1/corrective-actions/?overdue=true").json()["results"]
    assert all(row["overdue"] for row in rows)
    assert _ids(client, f"incident={review.incident_id}&status=done") == {str(others[2].pk)}
