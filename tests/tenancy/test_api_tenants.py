"""/api/v1/tenants/: platform admins create tenants; tenant admins edit their own; everyone else reads."""

import pytest

from apps.audit.models import AuditEntry
from apps.tenancy.models import Tenant
from tests.factories import TenantFactory

URL = "/api/v1/tenants/"


def detail(tenant) -> str:
    return f"{URL}{tenant.pk}/"


def audit_rows(verb: str, target) -> list[AuditEntry]:
    return list(AuditEntry.unscoped.filter(verb=verb, target_id=str(target.pk)).order_by("id"))


def result_ids(response) -> set[str]:
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def admin_client(superuser, api_client_for):
    return api_client_for(superuser)


def tenant_body(**overrides) -> dict:
    body = {
        "name": "Treasury",
        "slug": "treasury",
        "time_zone": "Europe/Berlin",
        "country": "DE",
        "reference_prefix": "TRE",
    }
    body.update(overrides)
    return body


# --- create ------------------------------------------------------------------------------------------


def test_platform_admin_creates_a_child_tenant_and_it_is_audited(admin_client, superuser, tenant):
    response = admin_client.post(URL, tenant_body(parent=str(tenant.pk)), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Treasury"
    assert body["slug"] == "treasury"
    assert body["parent"] == str(tenant.pk)
    assert body["time_zone"] == "Europe/Berlin"
    assert body["country"] == "DE"
    assert body["reference_prefix"] == "TRE"
    created = Tenant.objects.get(pk=body["id"])
    assert created.parent_id == tenant.pk
    assert created.path == f"{tenant.path}{created.pk}/"

    [entry] = audit_rows("tenant.created", created)
    assert entry.actor_id == superuser.pk
    assert entry.tenant_id == created.pk
    assert entry.channel == "api"
    assert entry.changes["name"] == [None, "Treasury"]
    assert entry.changes["reference_prefix"] == [None, "TRE"]
    assert entry.changes["parent_id"] == [None, str(tenant.pk)]


def test_platform_admin_creates_a_root_tenant(admin_client):
    response = admin_client.post(URL, tenant_body(), format="json")

    assert response.status_code == 201, response.json()
    created = Tenant.objects.get(pk=response.json()["id"])
    assert created.parent is None
    assert created.path == f"/{created.pk}/"


@pytest.mark.parametrize("time_zone", ["Mars/Olympus_Mons", "europe/berlin", "CEST", "GMT+2", ""])
def test_time_zone_must_be_an_iana_zone(admin_client, time_zone):
    response = admin_client.post(URL, tenant_body(time_zone=time_zone), format="json")

    assert response.status_code == 400
    assert "time_zone" in response.json()
    assert not Tenant.objects.filter(slug="treasury").exists()


@pytest.mark.parametrize("country", ["de", "DEU", "D", "D1", "12"])
def test_country_must_be_an_iso_alpha_2_code(admin_client, country):
    response = admin_client.post(URL, tenant_body(country=country), format="json")

    assert response.status_code == 400
    assert "country" in response.json()
    assert not Tenant.objects.filter(slug="treasury").exists()


@pytest.mark.parametrize("prefix", ["tre", "T", "1TR", "TR-E", "TOOLONGPREFIX", ""])
def test_reference_prefix_is_two_to_ten_capitals_or_digits(admin_client, prefix):
    response = admin_client.post(URL, tenant_body(reference_prefix=prefix), format="json")

    assert response.status_code == 400
    assert "reference_prefix" in response.json()
    assert not Tenant.objects.filter(slug="treasury").exists()


@pytest.mark.parametrize("field", ["slug", "reference_prefix"])
def test_slug_and_reference_prefix_are_unique(admin_client, tenant, field):
    value = {"slug": tenant.slug, "reference_prefix": tenant.reference_prefix}[field]
    response = admin_client.post(URL, tenant_body(**{field: value}), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Tenant.objects.count() == 1


@pytest.mark.parametrize("role", ["tenant_admin", "manager", "executive", "reporter"])
def test_only_platform_admins_create_tenants(tenant, make_member, api_client_for, role):
    client = api_client_for(make_member(role, tenant))

    response = client.post(URL, tenant_body(parent=str(tenant.pk)), format="json")

    assert response.status_code == 403
    assert "detail" in response.json()
    assert not Tenant.objects.filter(slug="treasury").exists()
    assert not AuditEntry.unscoped.filter(verb="tenant.created").exists()


# --- read --------------------------------------------------------------------------------------------


def test_members_list_their_tenants_and_descendants_only(tenant, other_tenant, make_member, api_client_for):
    child = TenantFactory(parent=tenant)
    grandchild = TenantFactory(parent=child)
    client = api_client_for(make_member("reporter", tenant))

    response = client.get(URL)

    assert response.status_code == 200
    assert result_ids(response) == {str(tenant.pk), str(child.pk), str(grandchild.pk)}
    assert client.get(detail(other_tenant)).status_code == 404


def test_a_member_of_a_child_does_not_see_the_parent(tenant, make_member, api_client_for):
    child = TenantFactory(parent=tenant)
    client = api_client_for(make_member("tenant_admin", child))

    assert result_ids(client.get(URL)) == {str(child.pk)}
    response = client.get(detail(tenant))
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."} or "detail" in response.json()


def test_platform_admin_lists_every_tenant(admin_client, tenant, other_tenant):
    assert result_ids(admin_client.get(URL)) == {str(tenant.pk), str(other_tenant.pk)}


def test_list_narrowed_by_tenant_parameter(tenant, make_member, api_client_for):
    child = TenantFactory(parent=tenant)
    sibling = TenantFactory(parent=tenant)
    client = api_client_for(make_member("executive", tenant))

    response = client.get(URL, {"tenant": str(child.pk)})

    assert response.status_code == 200
    assert result_ids(response) == {str(child.pk)}
    assert str(sibling.pk) not in result_ids(response)


def test_an_outsider_sees_no_tenant(db, api_client_for):
    from tests.factories import UserFactory

    TenantFactory()
    client = api_client_for(UserFactory())

    response = client.get(URL)

    assert response.status_code == 200
    assert response.json()["results"] == []


# --- update ------------------------------------------------------------------------------------------


def test_tenant_admin_updates_its_tenant_and_it_is_audited(tenant, make_member, api_client_for):
    admin = make_member("tenant_admin", tenant)
    client = api_client_for(admin)

    response = client.patch(detail(tenant), {"name": "Finance & Treasury", "time_zone": "UTC"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "Finance & Treasury"
    tenant.refresh_from_db()
    assert tenant.name == "Finance & Treasury"
    assert tenant.time_zone == "UTC"
    [entry] = audit_rows("tenant.updated", tenant)
    assert entry.actor_id == admin.pk
    assert entry.tenant_id == tenant.pk
    assert entry.channel == "api"
    assert entry.changes == {"name": ["Finance", "Finance & Treasury"], "time_zone": ["Europe/Paris", "UTC"]}


def test_tenant_admin_of_a_parent_updates_a_child(tenant, make_member, api_client_for):
    child = TenantFactory(parent=tenant, name="Payroll")
    client = api_client_for(make_member("tenant_admin", tenant))

    response = client.patch(detail(child), {"name": "Payroll & Pensions"}, format="json")

    assert response.status_code == 200, response.json()
    child.refresh_from_db()
    assert child.name == "Payroll & Pensions"


def test_tenant_admin_cannot_update_another_tenant(tenant, other_tenant, make_member, api_client_for):
    client = api_client_for(make_member("tenant_admin", tenant))

    response = client.patch(detail(other_tenant), {"name": "Hijacked"}, format="json")

    assert response.status_code == 404
    other_tenant.refresh_from_db()
    assert other_tenant.name == "Engineering"


@pytest.mark.parametrize("role", ["reporter", "handler", "manager", "auditor", "executive"])
def test_other_roles_cannot_update_their_tenant(tenant, make_member, api_client_for, role):
    client = api_client_for(make_member(role, tenant))

    response = client.patch(detail(tenant), {"name": "Renamed"}, format="json")

    assert response.status_code == 403
    tenant.refresh_from_db()
    assert tenant.name == "Finance"
    assert not audit_rows("tenant.updated", tenant)


def test_tenant_admin_cannot_move_its_tenant(tenant, other_tenant, make_member, api_client_for):
    client = api_client_for(make_member("tenant_admin", tenant))

    response = client.patch(detail(tenant), {"parent": None}, format="json")

    assert response.status_code == 403
    assert tenant.path == Tenant.objects.get(pk=tenant.pk).path


def test_invalid_time_zone_on_update_is_rejected(tenant, make_member, api_client_for):
    client = api_client_for(make_member("tenant_admin", tenant))

    response = client.patch(detail(tenant), {"time_zone": "Europe/Atlantis"}, format="json")

    assert response.status_code == 400
    assert "time_zone" in response.json()
    tenant.refresh_from_db()
    assert tenant.time_zone == "Europe/Paris"


def test_platform_admin_moves_a_subtree_and_descendant_paths_follow(admin_client, tenant, other_tenant):
    child = TenantFactory(parent=tenant)
    grandchild = TenantFactory(parent=child)

    response = admin_client.patch(detail(child), {"parent": str(other_tenant.pk)}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["parent"] == str(other_tenant.pk)
    child.refresh_from_db()
    grandchild.refresh_from_db()
    assert child.path == f"{other_tenant.path}{child.pk}/"
    assert grandchild.path == f"{other_tenant.path}{child.pk}/{grandchild.pk}/"
    [entry] = audit_rows("tenant.updated", child)
    assert entry.changes == {"parent_id": [str(tenant.pk), str(other_tenant.pk)]}


@pytest.mark.parametrize("target", ["self", "child", "grandchild"])
def test_a_tenant_cannot_move_under_itself_or_its_descendants(admin_client, tenant, target):
    child = TenantFactory(parent=tenant)
    grandchild = TenantFactory(parent=child)
    new_parent = {"self": tenant, "child": child, "grandchild": grandchild}[target]

    response = admin_client.patch(detail(tenant), {"parent": str(new_parent.pk)}, format="json")

    assert response.status_code == 400
    assert "parent" in response.json()
    tenant.refresh_from_db()
    assert tenant.parent_id is None
    assert tenant.path == f"/{tenant.pk}/"
    assert not audit_rows("tenant.updated", tenant)
