"""/api/v1/categories/: the shipped ENISA/RSIT taxonomy (read-only) and each tenant's own additions."""

import pytest

from apps.audit.models import AuditEntry
from apps.catalog.models import Category
from tests.factories import UserFactory


@pytest.fixture
def tenant_admin(make_member, tenant):
    return make_member("tenant_admin", tenant)


def _codes(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {row["code"] for row in response.json()["results"]}


def _create(client, tenant, **overrides):
    body = {"tenant": str(tenant.id), "code": "payroll-fraud", "name": "Payroll fraud", **overrides}
    return client.post("/api/v1/categories/", body, format="json")


def test_everyone_reads_the_shipped_taxonomy_and_its_tenants_own(
    api_client_for, reporter, tenant, other_tenant
):
    Category.unscoped.create(tenant=tenant, code="payroll-fraud", name="Payroll fraud")
    Category.unscoped.create(tenant=other_tenant, code="lab-leak", name="Lab leak")
    codes = _codes(api_client_for(reporter).get("/api/v1/categories/?page_size=200"))
    assert {"phishing", "intrusions", "other", "payroll-fraud"} <= codes
    assert "lab-leak" not in codes
    shipped = api_client_for(reporter).get("/api/v1/categories/?q=phishing").json()["results"]
    assert [(row["code"], row["tenant"]) for row in shipped] == [("phishing", None)]
    own = api_client_for(reporter).get("/api/v1/categories/?shipped=false").json()["results"]
    assert [(row["code"], row["tenant"]) for row in own] == [("payroll-fraud", str(tenant.id))]


def test_another_tenants_category_is_unknown(api_client_for, reporter, other_tenant):
    theirs = Category.unscoped.create(tenant=other_tenant, code="lab-leak", name="Lab leak")
    assert api_client_for(reporter).get(f"/api/v1/categories/{theirs.pk}/").status_code == 404


def test_tenant_admins_add_their_tenants_categories(api_client_for, tenant_admin, tenant, phishing):
    response = _create(api_client_for(tenant_admin), tenant, parent=str(phishing.id))
    assert response.status_code == 201, response.json()
    assert response.json()["tenant"] == str(tenant.id)
    assert response.json()["parent"] == str(phishing.id)
    assert AuditEntry.unscoped.filter(verb="category.created", target_id=response.json()["id"]).exists()


@pytest.mark.parametrize("role", ["reporter", "handler", "manager", "auditor", "executive"])
def test_other_roles_may_not_add_categories(role, api_client_for, make_member, tenant):
    assert _create(api_client_for(make_member(role, tenant)), tenant).status_code == 403
    assert not Category.unscoped.filter(code="payroll-fraud").exists()


def test_adding_to_another_tenant_is_unknown(api_client_for, tenant_admin, other_tenant):
    response = _create(api_client_for(tenant_admin), other_tenant)
    assert response.status_code == 400
    assert "does not exist" in response.json()["tenant"][0]


def test_a_tenant_code_may_not_reuse_a_shipped_one_or_its_own(api_client_for, tenant_admin, tenant):
    client = api_client_for(tenant_admin)
    shipped = _create(client, tenant, code="phishing")
    assert shipped.status_code == 400
    assert "code" in shipped.json()
    assert _create(client, tenant).status_code == 201
    again = _create(client, tenant)
    assert again.status_code == 400
    assert "code" in again.json()


def test_the_shipped_taxonomy_is_read_only(api_client_for, tenant_admin, phishing):
    response = api_client_for(tenant_admin).patch(
        f"/api/v1/categories/{phishing.pk}/", {"name": "Fishing"}, format="json"
    )
    assert response.status_code == 403
    assert Category.unscoped.get(pk=phishing.pk).name == "Phishing"


def test_tenant_admins_edit_their_own_but_not_the_code(api_client_for, tenant_admin, tenant, other_tenant):
    client = api_client_for(tenant_admin)
    created = _create(client, tenant).json()
    url = f"/api/v1/categories/{created['id']}/"
    renamed = client.patch(url, {"name": "Payroll diversion", "is_active": False}, format="json")
    assert renamed.status_code == 200, renamed.json()
    assert (renamed.json()["name"], renamed.json()["is_active"]) == ("Payroll diversion", False)
    assert client.patch(url, {"code": "other"}, format="json").status_code == 400
    assert client.patch(url, {"tenant": str(other_tenant.id)}, format="json").status_code == 400
    theirs = Category.unscoped.create(tenant=other_tenant, code="lab-leak", name="Lab leak")
    assert client.patch(f"/api/v1/categories/{theirs.pk}/", {"name": "x"}, format="json").status_code == 404


def test_a_category_cannot_sit_under_itself(api_client_for, tenant_admin, tenant):
    client = api_client_for(tenant_admin)
    parent = _create(client, tenant).json()
    child = _create(client, tenant, code="payroll-fraud-ceo", parent=parent["id"]).json()
    response = client.patch(f"/api/v1/categories/{parent['id']}/", {"parent": child["id"]}, format="json")
    assert response.status_code == 400
    assert "parent" in response.json()


def test_outsiders_do_not_read_the_taxonomy(db, api_client_for):
    assert api_client_for(UserFactory()).get("/api/v1/categories/").status_code == 403


def test_the_category_list_costs_the_same_for_1_or_20_own_rows(api_client_for, reporter, tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_client_for(reporter)
    Category.unscoped.create(tenant=tenant, code="own-0", name="Own 0")
    client.get("/api/v1/categories/?shipped=false")  # warm-up
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/api/v1/categories/?shipped=false").json()["results"]) == 1
    Category.unscoped.bulk_create(
        [Category(tenant=tenant, code=f"own-{n}", name=f"Own {n}") for n in range(1, 20)]
    )
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/categories/?shipped=false").json()["results"]) == 20
    assert len(few) == len(many)
