"""Closing on purpose (issue 13, defect 7): a close with open response actions asks what becomes of them,
and a closed incident is read-only except for what its review, obligations and evidence custody need."""

import pytest

from apps.audit.models import AuditEntry
from apps.response.models import ResponseAction, TimelineEntry
from apps.reviews.models import CorrectiveAction, Review
from tests.factories import IncidentFactory
from tests.reviews.factories import CompletedReviewFactory


@pytest.fixture
def recovered(tenant):
    """A P3 incident ready to close (root cause written, no review needed)."""
    return IncidentFactory(tenant=tenant, status="recovered", root_cause="Look-alike domain not blocked")


@pytest.fixture
def add_action(api_client_for, handler):
    def add(incident, title, **fields):
        response = api_client_for(handler).post(
            f"/api/v1/incidents/{incident.pk}/actions/", {"title": title, **fields}, format="json"
        )
        assert response.status_code == 201, response.json()
        return response.json()

    return add


def _close(client, incident, **body):
    return client.post(
        f"/api/v1/incidents/{incident.pk}/transition/", {"to": "closed", **body}, format="json"
    )


def _status(incident) -> str:
    incident.refresh_from_db()
    return incident.status


def test_a_close_with_open_actions_is_refused_with_the_actions_listed(
    recovered, add_action, manager, handler, api_client_for
):
    block = add_action(recovered, "Block the sender domain", assignee=str(handler.pk))
    done = add_action(recovered, "Reset passwords")
    api_client_for(handler).patch(
        f"/api/v1/incidents/{recovered.pk}/actions/{done['id']}/", {"status": "done"}, format="json"
    )
    refused = _close(api_client_for(manager), recovered)
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "open_actions"
    assert "open_actions" in body["detail"]
    assert body["open_actions"] == [
        {"id": block["id"], "title": "Block the sender domain", "assignee": str(handler.pk), "due_at": None}
    ]
    assert _status(recovered) == "recovered"


def test_closing_can_complete_the_open_actions(recovered, add_action, manager, api_client_for):
    action = add_action(recovered, "Block the sender domain")
    closed = _close(api_client_for(manager), recovered, open_actions="complete")
    assert closed.status_code == 200, closed.json()
    assert closed.json()["status"] == "closed"
    settled = ResponseAction.unscoped.get(pk=action["id"])
    assert settled.status == "done"
    assert settled.completed_at is not None
    entry = TimelineEntry.unscoped.get(incident=recovered, verb="action.updated")
    assert entry.data["changes"]["status"] == ["open", "done"]
    assert entry.data["on_close"] == "complete"
    close = AuditEntry.unscoped.get(incident_id=recovered.pk, verb="incident.transitioned")
    assert close.data["open_actions"] == "complete"
    assert close.data["actions"] == [action["id"]]


def test_cancelling_the_open_actions_needs_a_reason(recovered, add_action, manager, api_client_for):
    action = add_action(recovered, "Call the insurer")
    client = api_client_for(manager)
    no_reason = _close(client, recovered, open_actions="cancel", reason="  ")
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()
    assert _status(recovered) == "recovered"
    assert ResponseAction.unscoped.get(pk=action["id"]).status == "open"

    closed = _close(client, recovered, open_actions="cancel", reason="The insurer does not cover phishing")
    assert closed.status_code == 200, closed.json()
    assert ResponseAction.unscoped.get(pk=action["id"]).status == "cancelled"
    entry = TimelineEntry.unscoped.get(incident=recovered, verb="action.updated")
    assert entry.data["reason"] == "The insurer does not cover phishing"
    assert AuditEntry.unscoped.filter(incident_id=recovered.pk, verb="action.updated").count() == 1


def test_carrying_over_makes_them_corrective_actions_of_a_new_review(
    recovered, add_action, manager, handler, api_client_for
):
    action = add_action(recovered, "Add look-alike domains to the block list", assignee=str(handler.pk))
    closed = _close(api_client_for(manager), recovered, open_actions="carry_over")
    assert closed.status_code == 200, closed.json()
    review = Review.unscoped.get(incident=recovered)
    assert review.status == "draft"
    corrective = CorrectiveAction.unscoped.get(review=review)
    assert corrective.title == "Add look-alike domains to the block list"
    assert corrective.owner == handler
    assert recovered.reference in corrective.description
    settled = ResponseAction.unscoped.get(pk=action["id"])
    assert settled.status == "cancelled"
    entry = TimelineEntry.unscoped.get(incident=recovered, verb="action.updated")
    assert entry.data["on_close"] == "carry_over"
    assert entry.data["corrective_action"] == str(corrective.pk)
    verbs = set(TimelineEntry.unscoped.filter(incident=recovered).values_list("verb", flat=True))
    assert {"review.created", "corrective_action.created", "incident.transitioned"} <= verbs


def test_carrying_over_joins_an_existing_review(tenant, add_action, manager, api_client_for):
    incident = IncidentFactory(tenant=tenant, severity="P1", status="recovered", root_cause="VPN")
    review = CompletedReviewFactory(incident=incident)
    add_action(incident, "Patch the VPN appliance")
    assert _close(api_client_for(manager), incident, open_actions="carry_over").status_code == 200
    assert list(CorrectiveAction.unscoped.filter(review=review).values_list("title", flat=True)) == [
        "Patch the VPN appliance"
    ]


def test_a_decision_is_only_for_a_close_and_one_of_three(recovered, add_action, manager, api_client_for):
    add_action(recovered, "Rotate the VPN keys")
    refused = api_client_for(manager).post(
        f"/api/v1/incidents/{recovered.pk}/transition/",
        {"to": "investigating", "open_actions": "carry_over"},
        format="json",
    )
    assert refused.status_code == 400
    assert "open_actions" in refused.json()
    unknown = _close(api_client_for(manager), recovered, open_actions="forget")
    assert unknown.status_code == 400
    assert "open_actions" in unknown.json()
    assert not Review.unscoped.filter(incident=recovered).exists()
    assert _status(recovered) == "recovered"


def test_without_open_actions_no_decision_is_needed(recovered, manager, api_client_for):
    assert _close(api_client_for(manager), recovered).status_code == 200


def test_a_false_alarm_close_also_decides_on_open_actions(tenant, add_action, manager, api_client_for):
    incident = IncidentFactory(tenant=tenant, status="investigating")
    add_action(incident, "Quarantine the mail")
    client = api_client_for(manager)
    assert _close(client, incident, note="Our own phishing simulation").status_code == 409
    closed = _close(
        client, incident, note="Our own phishing simulation", open_actions="cancel", reason="Drill"
    )
    assert closed.status_code == 200, closed.json()
    assert closed.json()["false_alarm"] is True


# --- A closed incident is read-only --------------------------------------------------------------------


@pytest.fixture
def closed(recovered, add_action, manager, api_client_for):
    action = add_action(recovered, "Block the sender domain")
    assert _close(api_client_for(manager), recovered, open_actions="complete").status_code == 200
    recovered.action_id = action["id"]
    return recovered


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "actions/", {"title": "One more thing"}),
        ("patch", "actions/{action}/", {"status": "open"}),
        ("patch", "actions/{action}/", {"title": "Renamed"}),
        ("post", "timeline/", {"kind": "observation", "summary": "Seen again"}),
        ("patch", "", {"title": "Renamed"}),
    ],
)
def test_a_closed_incident_refuses_its_own_writes(
    closed, handler, manager, api_client_for, method, path, body
):
    client = api_client_for(manager)
    url = f"/api/v1/incidents/{closed.pk}/{path.format(action=closed.action_id)}"
    before = TimelineEntry.unscoped.filter(incident=closed).count()
    response = getattr(client, method)(url, body, format="json")
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "closed"
    assert "closed" in response.json()["detail"]
    assert TimelineEntry.unscoped.filter(incident=closed).count() == before
    assert ResponseAction.unscoped.filter(incident=closed).count() == 1


def test_what_the_review_needs_still_records_after_the_close(closed, manager, api_client_for):
    client = api_client_for(manager)
    review = client.post("/api/v1/reviews/", {"incident": str(closed.pk)}, format="json")
    assert review.status_code == 201, review.json()
    action = client.post(
        f"/api/v1/reviews/{review.json()['id']}/actions/", {"title": "Train staff"}, format="json"
    )
    assert action.status_code == 201, action.json()


def test_reopening_makes_it_writable_again(closed, manager, api_client_for):
    client = api_client_for(manager)
    reopened = client.post(
        f"/api/v1/incidents/{closed.pk}/transition/",
        {"to": "investigating", "note": "The sender is back"},
        format="json",
    )
    assert reopened.status_code == 200, reopened.json()
    added = client.post(f"/api/v1/incidents/{closed.pk}/actions/", {"title": "Block again"}, format="json")
    assert added.status_code == 201


def test_carrying_over_an_action_of_someone_who_left_leaves_it_unowned(
    recovered, add_action, manager, make_member, tenant, api_client_for
):
    from apps.tenancy.models import Membership

    leaver = make_member("handler", tenant)
    add_action(recovered, "Rotate the shared mailbox password", assignee=str(leaver.pk))
    Membership.unscoped.filter(user=leaver).delete()  # left the department since
    closed = _close(api_client_for(manager), recovered, open_actions="carry_over")
    assert closed.status_code == 200, closed.json()
    corrective = CorrectiveAction.unscoped.get(review__incident=recovered)
    assert (corrective.title, corrective.owner) == ("Rotate the shared mailbox password", None)
