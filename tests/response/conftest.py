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
            "title": "Phishing wave",
            "category": str(phishing.id),
            "impact": "medium",
            "urgency": "high",
            **overrides,
        }
        response = api_client_for(manager).post("/api/v1/incidents/", body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return make
