"""A manual timeline entry's `at` is a plausible time (issue 14, apps/core/times.py): not more than a year
before the incident began (its declaration, or the awareness or discovery stated for it when earlier), not
in the future beyond five minutes of clock skew. Otherwise 400 naming `at`, and nothing is recorded."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.response.models import TimelineEntry
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(tenant):
    return IncidentFactory(tenant=tenant, declared_at=timezone.now() - timedelta(days=30))


def post_entry(client, incident, at):
    return client.post(
        f"/api/v1/incidents/{incident.pk}/timeline/",
        {"kind": "observation", "summary": "Beacon traffic seen on the proxy", "at": at},
        format="json",
    )


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("0001-01-01T00:00:00Z", "Cannot be before"),
        ("1969-12-31T23:59:59Z", "Cannot be before"),
        ("9999-12-31T23:59:59Z", "Cannot be in the future."),
    ],
)
def test_year_1_and_9999_are_refused_naming_at(at, message, incident, api_client_for, manager):
    response = post_entry(api_client_for(manager), incident, at)

    assert response.status_code == 400
    assert list(response.json()) == ["at"]
    assert response.json()["at"][0].startswith(message)
    assert not TimelineEntry.unscoped.filter(incident=incident, kind="observation").exists()


def test_more_than_a_year_before_the_incident_is_refused(incident, api_client_for, manager):
    at = incident.declared_at - timedelta(days=400)

    response = post_entry(api_client_for(manager), incident, at.isoformat())

    assert response.status_code == 400
    floor = (incident.declared_at - timedelta(days=366)).strftime("%Y-%m-%d %H:%M UTC")
    assert response.json() == {"at": [f"Cannot be before {floor}, a year before the incident began."]}


def test_further_in_the_future_than_the_clock_skew_is_refused(incident, api_client_for, manager):
    response = post_entry(
        api_client_for(manager), incident, (timezone.now() + timedelta(minutes=10)).isoformat()
    )

    assert response.status_code == 400
    assert response.json() == {"at": ["Cannot be in the future."]}


@pytest.mark.parametrize(
    "when",
    [
        lambda incident: incident.declared_at - timedelta(days=300),  # before the declaration, within a year
        lambda incident: timezone.now() + timedelta(minutes=2),  # a fast clock
        lambda incident: timezone.now() - timedelta(hours=1),
    ],
)
def test_plausible_times_are_recorded_as_given(when, incident, api_client_for, manager):
    at = when(incident).replace(microsecond=0)

    response = post_entry(api_client_for(manager), incident, at.isoformat())

    assert response.status_code == 201, response.json()
    entry = TimelineEntry.unscoped.get(pk=response.json()["id"])
    assert entry.at == at


def test_an_earlier_discovery_moves_the_floor_back(tenant, api_client_for, manager):
    """A breach discovered two years before it was declared: its timeline may start from the discovery."""
    now = timezone.now()
    incident = IncidentFactory(tenant=tenant, declared_at=now, discovered_at=now - timedelta(days=730))
    client = api_client_for(manager)

    allowed = post_entry(client, incident, (now - timedelta(days=900)).isoformat())
    refused = post_entry(client, incident, (now - timedelta(days=1200)).isoformat())

    assert allowed.status_code == 201, allowed.json()
    assert refused.status_code == 400
    assert list(refused.json()) == ["at"]


def test_without_at_the_entry_is_now(incident, api_client_for, manager):
    response = api_client_for(manager).post(
        f"/api/v1/incidents/{incident.pk}/timeline/", {"kind": "observation", "summary": "x"}, format="json"
    )

    assert response.status_code == 201
    recorded = TimelineEntry.unscoped.get(pk=response.json()["id"]).at
    assert abs(recorded - timezone.now()) < timedelta(minutes=1)
