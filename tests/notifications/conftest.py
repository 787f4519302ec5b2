import pytest

from apps.catalog.models import Category


@pytest.fixture
def phishing(db):
    return Category.unscoped.get(code="phishing", tenant=None)


@pytest.fixture
def manager(make_member, tenant):
    return make_member("manager", tenant)


@pytest.fixture
def handler(make_member, tenant):
    return make_member("handler", tenant)


@pytest.fixture
def declare(api_client_for, manager, tenant, phishing):
    """Declare an incident through the API as the tenant's manager; returns its JSON."""

    def make(**overrides):
        body = {
            "tenant": str(tenant.id),
            "title": "Customer database exposed",
            "category": str(phishing.id),
            "impact": "high",
            "urgency": "high",
            **overrides,
        }
        response = api_client_for(manager).post("/api/v1/incidents/", body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return make


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
