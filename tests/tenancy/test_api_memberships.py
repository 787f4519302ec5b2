"""/api/v1/memberships/: tenant admins manage their tenants' members and roles (never executives);
platform admins manage any; a membership in a parent covers the children."""

import pytest

from apps.audit.models import AuditEntry
from apps.tenancy.models import Membership
from apps.tenancy.roles import RoleId
from tests.factories import MembershipFactory, TenantFactory, UserFactory

URL = "/api/v1/memberships/"
ROLES_BUT_EXECUTIVE = [r for r in RoleId.values if r != RoleId.EXECUTIVE]


def detail(membership) -> str:
    return f"{URL}{membership.pk}/"


def audit_rows(verb: str, target_id) -> list[AuditEntry]:
    return list(AuditEntry.unscoped.filter(verb=verb, target_id=str(target_id)).order_by("id"))


def result_ids(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def tenant_admin(tenant, make_member):
    return make_member("tenant_admin", tenant)


@pytest.fixture
def ta_client(tenant_admin, api_client_for):
    return api_client_for(tenant_admin)


@pytest.fixture
def newcomer(tenant):
    """A person the tenant admin may see but who holds no role in the tenant yet (a member of a child)."""
    user = UserFactory()
    MembershipFactory(user=user, tenant=TenantFactory(parent=tenant), role="reporter")
    return user


# --- create ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES_BUT_EXECUTIVE)
def test_tenant_admin_assigns_any_role_but_executive(ta_client, tenant_admin, tenant, newcomer, role):
    response = ta_client.post(
        URL, {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": role}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["user"], body["tenant"], body["role"]) == (str(newcomer.pk), str(tenant.pk), role)
    membership = Membership.unscoped.get(pk=body["id"])
    assert (membership.user_id, membership.tenant_id, membership.role) == (newcomer.pk, tenant.pk, role)
    [entry] = audit_rows("membership.created", membership.pk)
    assert entry.actor_id == tenant_admin.pk
    assert entry.tenant_id == tenant.pk
    assert entry.channel == "api"
    assert entry.changes == {"user": [None, str(newcomer.pk)], "role": [None, role]}


def test_tenant_admin_cannot_appoint_an_executive(ta_client, tenant, newcomer):
    response = ta_client.post(
        URL, {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": "executive"}, format="json"
    )

    assert response.status_code == 403
    assert "detail" in response.json()
    assert not Membership.unscoped.filter(user=newcomer, tenant=tenant).exists()
    assert not AuditEntry.unscoped.filter(verb="membership.created", tenant=tenant).exists()


def test_platform_admin_assigns_any_role_in_any_tenant(superuser, api_client_for, other_tenant):
    user = UserFactory()

    response = api_client_for(superuser).post(
        URL, {"user": str(user.pk), "tenant": str(other_tenant.pk), "role": "executive"}, format="json"
    )

    assert response.status_code == 201, response.json()
    membership = Membership.unscoped.get(user=user)
    assert (membership.tenant_id, membership.role) == (other_tenant.pk, "executive")
    [entry] = audit_rows("membership.created", membership.pk)
    assert (entry.actor_id, entry.tenant_id, entry.channel) == (superuser.pk, other_tenant.pk, "api")


def test_naming_a_foreign_tenant_reads_as_does_not_exist(ta_client, other_tenant, newcomer):
    response = ta_client.post(
        URL, {"user": str(newcomer.pk), "tenant": str(other_tenant.pk), "role": "handler"}, format="json"
    )

    assert response.status_code == 400
    assert "does not exist" in str(response.json()["tenant"])
    assert not Membership.unscoped.filter(tenant=other_tenant).exists()


def test_naming_a_user_the_admin_cannot_see_reads_as_does_not_exist(
    ta_client, tenant, other_tenant, make_member
):
    stranger = make_member("handler", other_tenant)

    response = ta_client.post(
        URL, {"user": str(stranger.pk), "tenant": str(tenant.pk), "role": "handler"}, format="json"
    )

    assert response.status_code == 400
    assert "does not exist" in str(response.json()["user"])
    assert not Membership.unscoped.filter(user=stranger, tenant=tenant).exists()


def test_duplicate_membership_is_400_naming_user(ta_client, tenant, make_member):
    member = make_member("handler", tenant)

    response = ta_client.post(
        URL, {"user": str(member.pk), "tenant": str(tenant.pk), "role": "manager"}, format="json"
    )

    assert response.status_code == 400
    assert "user" in response.json()
    assert Membership.unscoped.get(user=member, tenant=tenant).role == "handler"


@pytest.mark.parametrize("role", ["reporter", "handler", "investigator", "manager", "auditor", "executive"])
def test_other_roles_cannot_write_memberships(tenant, make_member, api_client_for, newcomer, role):
    client = api_client_for(make_member(role, tenant))
    colleague = make_member("reporter", tenant)
    membership = Membership.unscoped.get(user=colleague)

    created = client.post(
        URL, {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": "reporter"}, format="json"
    )
    changed = client.patch(detail(membership), {"role": "manager"}, format="json")
    deleted = client.delete(detail(membership))

    assert (created.status_code, changed.status_code, deleted.status_code) == (403, 403, 403)
    assert not Membership.unscoped.filter(user=newcomer, tenant=tenant).exists()
    membership.refresh_from_db()
    assert membership.role == "reporter"


# --- hierarchy ---------------------------------------------------------------------------------------


def test_tenant_admin_of_a_parent_manages_a_child(ta_client, tenant, make_member):
    child = TenantFactory(parent=tenant)
    child_member = make_member("reporter", child)
    membership = Membership.unscoped.get(user=child_member)
    newcomer = UserFactory()
    MembershipFactory(user=newcomer, tenant=tenant, role="reporter")

    created = ta_client.post(
        URL, {"user": str(newcomer.pk), "tenant": str(child.pk), "role": "handler"}, format="json"
    )
    changed = ta_client.patch(detail(membership), {"role": "investigator"}, format="json")

    assert created.status_code == 201, created.json()
    assert Membership.unscoped.get(user=newcomer, tenant=child).role == "handler"
    assert changed.status_code == 200, changed.json()
    membership.refresh_from_db()
    assert membership.role == "investigator"


def test_tenant_admin_of_a_child_cannot_manage_the_parent(tenant, make_member, api_client_for):
    child = TenantFactory(parent=tenant)
    client = api_client_for(make_member("tenant_admin", child))
    parent_member = make_member("reporter", tenant)
    membership = Membership.unscoped.get(user=parent_member)
    child_member = make_member("reporter", child)

    created = client.post(
        URL, {"user": str(child_member.pk), "tenant": str(tenant.pk), "role": "handler"}, format="json"
    )
    changed = client.patch(detail(membership), {"role": "manager"}, format="json")

    assert created.status_code == 400
    assert "does not exist" in str(created.json()["tenant"])
    assert changed.status_code == 404
    membership.refresh_from_db()
    assert membership.role == "reporter"


# --- update and delete -------------------------------------------------------------------------------


def test_tenant_admin_changes_a_role_and_it_is_audited(ta_client, tenant_admin, tenant, make_member):
    membership = Membership.unscoped.get(user=make_member("reporter", tenant))

    response = ta_client.patch(detail(membership), {"role": "manager"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["role"] == "manager"
    membership.refresh_from_db()
    assert membership.role == "manager"
    [entry] = audit_rows("membership.updated", membership.pk)
    assert (entry.actor_id, entry.tenant_id, entry.channel) == (tenant_admin.pk, tenant.pk, "api")
    assert entry.changes == {"role": ["reporter", "manager"]}


def test_tenant_admin_removes_a_member_and_it_is_audited(ta_client, tenant_admin, tenant, make_member):
    member = make_member("handler", tenant)
    membership = Membership.unscoped.get(user=member)

    response = ta_client.delete(detail(membership))

    assert response.status_code == 204
    assert not Membership.unscoped.filter(pk=membership.pk).exists()
    [entry] = audit_rows("membership.deleted", membership.pk)
    assert (entry.actor_id, entry.tenant_id, entry.channel) == (tenant_admin.pk, tenant.pk, "api")
    assert entry.changes == {"user": [str(member.pk), None], "role": ["handler", None]}


def test_tenant_admin_cannot_promote_to_demote_or_remove_an_executive(ta_client, tenant, make_member):
    member = Membership.unscoped.get(user=make_member("manager", tenant))
    executive = Membership.unscoped.get(user=make_member("executive", tenant))

    promoted = ta_client.patch(detail(member), {"role": "executive"}, format="json")
    demoted = ta_client.patch(detail(executive), {"role": "reporter"}, format="json")
    removed = ta_client.delete(detail(executive))

    assert (promoted.status_code, demoted.status_code, removed.status_code) == (403, 403, 403)
    member.refresh_from_db()
    executive.refresh_from_db()
    assert (member.role, executive.role) == ("manager", "executive")
    assert not AuditEntry.unscoped.filter(verb__in=["membership.updated", "membership.deleted"]).exists()


def test_another_tenants_memberships_are_404(ta_client, other_tenant, make_member):
    membership = Membership.unscoped.get(user=make_member("handler", other_tenant))

    responses = [
        ta_client.get(detail(membership)),
        ta_client.patch(detail(membership), {"role": "reporter"}, format="json"),
        ta_client.put(detail(membership), {"role": "reporter"}, format="json"),
        ta_client.delete(detail(membership)),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    membership.refresh_from_db()
    assert membership.role == "handler"


def test_user_and_tenant_of_a_membership_cannot_be_changed(ta_client, tenant, make_member):
    membership = Membership.unscoped.get(user=make_member("handler", tenant))
    child = TenantFactory(parent=tenant)

    response = ta_client.patch(detail(membership), {"tenant": str(child.pk)}, format="json")

    assert response.status_code == 400
    assert "tenant" in response.json()
    membership.refresh_from_db()
    assert membership.tenant_id == tenant.pk


def test_an_empty_patch_changes_nothing(ta_client, tenant, make_member):
    membership = Membership.unscoped.get(user=make_member("handler", tenant))

    response = ta_client.patch(detail(membership), {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["role"] == "handler"
    assert not audit_rows("membership.updated", membership.pk)


# --- reading -----------------------------------------------------------------------------------------


def test_a_reporter_sees_only_its_own_memberships(tenant, other_tenant, make_member, api_client_for):
    me = make_member("reporter", tenant)
    MembershipFactory(user=me, tenant=other_tenant, role="reporter")
    make_member("handler", tenant)

    response = api_client_for(me).get(URL)

    assert result_ids(response) == {str(m.pk) for m in Membership.unscoped.filter(user=me)}
    assert len(response.json()["results"]) == 2


def test_tenant_admin_lists_its_tenants_memberships_only(ta_client, tenant, other_tenant, make_member):
    child = TenantFactory(parent=tenant)
    make_member("handler", tenant)
    make_member("reporter", child)
    make_member("handler", other_tenant)

    ids = result_ids(ta_client.get(URL))

    expected = Membership.unscoped.filter(tenant__in=[tenant, child])
    assert ids == {str(m.pk) for m in expected}
    assert len(ids) == 3


def test_list_filters_by_tenant_and_role(ta_client, tenant, make_member):
    child = TenantFactory(parent=tenant)
    handler = make_member("handler", tenant)
    child_handler = make_member("handler", child)

    by_tenant = result_ids(ta_client.get(URL, {"tenant": str(child.pk)}))
    by_role = result_ids(ta_client.get(URL, {"role": "handler"}))

    assert by_tenant == {str(Membership.unscoped.get(user=child_handler).pk)}
    assert by_role == {str(m.pk) for m in Membership.unscoped.filter(user__in=[handler, child_handler])}
