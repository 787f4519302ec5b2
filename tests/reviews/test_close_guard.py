"""Reviews registers a guard on the incident lifecycle: a P1/P2 incident closes only with a completed review
(design.md, "Guards that live above"); response itself knows nothing of reviews."""

import pytest

from apps.response import lifecycle
from apps.response.models import Incident
from apps.reviews.guards import CLOSE_WITHOUT_REVIEW, completed_review_before_closing
from tests.factories import IncidentFactory
from tests.reviews.factories import CompletedReviewFactory, ReviewFactory


def _close(client, incident, note=""):
    return client.post(
        f"/api/v1/incidents/{incident.pk}/transition/", {"to": "closed", "note": note}, format="json"
    )


def test_the_guard_is_registered_by_the_reviews_app():
    assert completed_review_before_closing in lifecycle._guards


@pytest.mark.parametrize("severity", ["P1", "P2"])
def test_a_p1_or_p2_incident_does_not_close_without_a_completed_review(
    severity, tenant, manager, api_client_for
):
    incident = IncidentFactory(tenant=tenant, severity=severity, status="recovered", root_cause="VPN")
    client = api_client_for(manager)
    blocked = _close(client, incident)
    assert blocked.status_code == 409
    assert blocked.json() == {"detail": CLOSE_WITHOUT_REVIEW, "code": "blocked", "fix": "review"}
    ReviewFactory(incident=incident)  # a draft is not enough
    assert _close(client, incident).status_code == 409
    assert Incident.unscoped.get(pk=incident.pk).status == "recovered"


def test_completing_the_review_lets_the_incident_close(incident, manager, api_client_for, review_of):
    client = api_client_for(manager)
    assert _close(client, incident).status_code == 409
    review = review_of(incident, root_cause="Unpatched VPN appliance", lessons_learned="Patch faster")
    assert client.post(f"/api/v1/reviews/{review['id']}/complete/").status_code == 200
    closed = _close(client, incident)
    assert closed.status_code == 200, closed.json()
    assert closed.json()["status"] == "closed"


@pytest.mark.parametrize("severity", ["P3", "P4", ""])
def test_lower_severities_close_without_a_review(severity, tenant, manager, api_client_for):
    incident = IncidentFactory(tenant=tenant, severity=severity, status="recovered", root_cause="Typo")
    assert _close(api_client_for(manager), incident).status_code == 200


def test_a_false_alarm_close_is_not_blocked(tenant, manager, api_client_for):
    incident = IncidentFactory(tenant=tenant, severity="P1", status="investigating")
    response = _close(api_client_for(manager), incident, note="The 'attack' was our own penetration test")
    assert response.status_code == 200, response.json()
    assert response.json()["false_alarm"] is True


def test_the_guard_looks_only_at_this_incidents_review(tenant, manager, api_client_for):
    CompletedReviewFactory(incident=IncidentFactory(tenant=tenant, severity="P1"))
    incident = IncidentFactory(tenant=tenant, severity="P1", status="recovered", root_cause="VPN")
    assert _close(api_client_for(manager), incident).status_code == 409
