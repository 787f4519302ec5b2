import pytest

from tests.factories import IncidentFactory


@pytest.fixture
def incident(tenant):
    """A P2 incident of the tenant, recovered and with its root cause: ready to close but for its review."""
    return IncidentFactory(tenant=tenant, severity="P2", status="recovered", root_cause="Unpatched VPN")


@pytest.fixture
def review_of(api_client_for, manager):
    """Open a review of an incident through the API as the tenant's manager; returns its JSON."""

    def make(incident, **texts):
        response = api_client_for(manager).post(
            "/api/v1/reviews/", {"incident": str(incident.pk), **texts}, format="json"
        )
        assert response.status_code == 201, response.json()
        return response.json()

    return make
