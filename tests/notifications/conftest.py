import pytest


@pytest.fixture
def patch_incident(api_client_for, manager):
    def patch(incident_id, **fields):
        response = api_client_for(manager).patch(f"/api/v1/incidents/{incident_id}/", fields, format="json")
        assert response.status_code == 200, response.json()
        return response.json()

    return patch


@pytest.fixture
def obligations_of(api_client_for, manager):
    """{step code or notice: obligation JSON} of an incident, as its manager lists them."""

    def list_(incident_id, **params):
        response = api_client_for(manager).get("/api/v1/obligations/", {"incident": incident_id, **params})
        assert response.status_code == 200, response.json()
        return {row["notice"]: row for row in response.json()["results"]}

    return list_


@pytest.fixture
def declare(declare):
    """The shared `declare`, with a personal-data flavoured default incident."""

    def make(**overrides):
        return declare(**{"title": "Customer database exposed", "impact": "high", **overrides})

    return make
