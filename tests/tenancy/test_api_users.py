"""/api/v1/users/: platform admins create anyone; tenant admins create their tenant's members (with a role)
and outsiders (without); `password` is write-only and validated."""

import pytest
from django.contrib.auth import get_user_model

from apps.audit.models import AuditEntry
from apps.tenancy.models import Membership, Outsider
from tests.factories import MembershipFactory, TenantFactory, UserFactory

User = get_user_model()
URL = "/api/v1/users/"
STRONG_PASSWORD = "violet-Kestrel-4471"


def detail(user) -> str:
    return f"{URL}{user.pk}/"


def audit_rows(verb: str, target) -> list[AuditEntry]:
    return list(AuditEntry.unscoped.filter(verb=verb, target_id=str(target.pk)).order_by("id"))


def result_ids(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def admin_client(superuser, api_client_for):
    return api_client_for(superuser)


@pytest.fixture
def tenant_admin(tenant, make_member):
    return make_member("tenant_admin", tenant)


@pytest.fixture
def ta_client(tenant_admin, api_client_for):
    return api_client_for(tenant_admin)


# --- platform admins ---------------------------------------------------------------------------------


def test_platform_admin_creates_a_user_without_tenant(admin_client, superuser):
    body = {
        "username": "alice",
        "email": "alice@example.org",
        "first_name": "Alice",
        "last_name": "Liddell",
        "password": STRONG_PASSWORD,
    }

    response = admin_client.post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert "password" not in data
    assert {k: data[k] for k in ("username", "email", "first_name", "last_name")} == {
        "username": "alice",
        "email": "alice@example.org",
        "first_name": "Alice",
        "last_name": "Liddell",
    }
    user = User.objects.get(pk=data["id"])
    assert user.check_password(STRONG_PASSWORD)
    assert not Membership.unscoped.filter(user=user).exists()
    [entry] = audit_rows("user.created", user)
    assert entry.actor_id == superuser.pk
    assert entry.tenant_id is None
    assert entry.channel == "api"
    assert entry.changes["username"] == [None, "alice"]
    assert "password" not in entry.changes
    assert STRONG_PASSWORD not in str(entry.changes) + str(entry.data)


def test_platform_admin_appoints_an_executive_anywhere(admin_client, other_tenant):
    response = admin_client.post(
        URL, {"username": "ceo", "tenant": str(other_tenant.pk), "role": "executive"}, format="json"
    )

    assert response.status_code == 201, response.json()
    membership = Membership.unscoped.get(user_id=response.json()["id"])
    assert (membership.tenant_id, membership.role) == (other_tenant.pk, "executive")


def test_a_user_without_password_cannot_sign_in_with_one(admin_client):
    response = admin_client.post(URL, {"username": "sso-user"}, format="json")

    assert response.status_code == 201
    assert not User.objects.get(username="sso-user").has_usable_password()


def test_a_role_needs_a_tenant(admin_client):
    response = admin_client.post(URL, {"username": "bob", "role": "handler"}, format="json")

    assert response.status_code == 400
    assert "tenant" in response.json()
    assert not User.objects.filter(username="bob").exists()


def test_platform_admin_may_create_an_inactive_user(admin_client):
    response = admin_client.post(URL, {"username": "dormant", "is_active": False}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["is_active"] is False
    assert User.objects.get(username="dormant").is_active is False


# --- passwords ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["short", "password123", "12345678901234", "carolsmith-1"],
    ids=["too-short", "common", "numeric", "similar-to-username"],
)
def test_weak_passwords_are_rejected_naming_password(admin_client, password):
    response = admin_client.post(
        URL,
        {"username": "carolsmith", "email": "carolsmith@example.org", "password": password},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"password"}
    assert response.json()["password"]
    assert not User.objects.filter(username="carolsmith").exists()
    assert not AuditEntry.unscoped.filter(verb="user.created").exists()


def test_password_is_never_returned(admin_client, tenant, make_member):
    member = make_member("handler", tenant)

    created = admin_client.post(URL, {"username": "dave", "password": STRONG_PASSWORD}, format="json")
    listed = admin_client.get(URL)
    retrieved = admin_client.get(detail(member))
    updated = admin_client.patch(detail(member), {"password": STRONG_PASSWORD}, format="json")

    for response in (created, retrieved, updated):
        assert response.status_code in (200, 201), response.json()
        assert "password" not in response.json()
    assert all("password" not in row for row in listed.json()["results"])
    member.refresh_from_db()
    assert member.check_password(STRONG_PASSWORD)


def test_changing_a_password_is_audited_without_the_password(tenant, make_member, api_client_for):
    member = make_member("handler", tenant)
    client = api_client_for(member)

    response = client.patch(
        detail(member),
        {"password": STRONG_PASSWORD, "current_password": "correct-horse-battery"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    [entry] = audit_rows("user.updated", member)
    assert entry.changes == {"password": ["(set)", "(changed)"]}
    assert entry.channel == "api"


def test_weak_password_on_update_is_rejected(tenant, make_member, api_client_for):
    member = make_member("handler", tenant)

    response = api_client_for(member).patch(
        detail(member), {"password": "abc", "current_password": "correct-horse-battery"}, format="json"
    )

    assert response.status_code == 400
    assert "password" in response.json()
    member.refresh_from_db()
    assert member.check_password("correct-horse-battery")


def test_usernames_are_unique(admin_client, tenant, make_member):
    make_member("handler", tenant, username="erin")

    response = admin_client.post(URL, {"username": "erin"}, format="json")

    assert response.status_code == 400
    assert "username" in response.json()
    assert User.objects.filter(username="erin").count() == 1


# --- tenant admins -----------------------------------------------------------------------------------


def test_tenant_admin_creates_a_member_of_its_tenant(ta_client, tenant_admin, tenant):
    response = ta_client.post(
        URL,
        {"username": "frank", "password": STRONG_PASSWORD, "tenant": str(tenant.pk), "role": "handler"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert "tenant" not in response.json()
    assert "role" not in response.json()
    user = User.objects.get(username="frank")
    membership = Membership.unscoped.get(user=user)
    assert (membership.tenant_id, membership.role) == (tenant.pk, "handler")
    assert not Outsider.unscoped.filter(user=user).exists()
    [created] = audit_rows("user.created", user)
    assert (created.actor_id, created.tenant_id, created.channel) == (tenant_admin.pk, tenant.pk, "api")
    [joined] = audit_rows("membership.created", membership)
    assert (joined.actor_id, joined.tenant_id, joined.channel) == (tenant_admin.pk, tenant.pk, "api")
    assert joined.changes == {"user": [None, str(user.pk)], "role": [None, "handler"]}


def test_tenant_admin_creates_an_outsider(ta_client, tenant_admin, tenant):
    response = ta_client.post(
        URL, {"username": "external-investigator", "tenant": str(tenant.pk)}, format="json"
    )

    assert response.status_code == 201, response.json()
    user = User.objects.get(username="external-investigator")
    assert not Membership.unscoped.filter(user=user).exists()
    outsider = Outsider.unscoped.get(user=user)
    assert outsider.tenant_id == tenant.pk
    [entry] = audit_rows("outsider.created", outsider)
    assert (entry.actor_id, entry.tenant_id, entry.channel) == (tenant_admin.pk, tenant.pk, "api")
    # The outsider is now visible to its sponsoring tenant's admin, so objects can be granted to them.
    assert str(user.pk) in result_ids(ta_client.get(URL))


def test_tenant_admin_of_a_parent_creates_members_of_a_child(ta_client, tenant):
    child = TenantFactory(parent=tenant)

    response = ta_client.post(
        URL, {"username": "gina", "tenant": str(child.pk), "role": "manager"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert Membership.unscoped.get(user__username="gina").tenant_id == child.pk


def test_tenant_admin_cannot_appoint_an_executive(ta_client, tenant):
    response = ta_client.post(
        URL, {"username": "hank", "tenant": str(tenant.pk), "role": "executive"}, format="json"
    )

    assert response.status_code == 403
    assert not User.objects.filter(username="hank").exists()


def test_tenant_admin_must_name_a_tenant(ta_client):
    response = ta_client.post(URL, {"username": "ivan"}, format="json")

    assert response.status_code == 400
    assert "tenant" in response.json()
    assert not User.objects.filter(username="ivan").exists()


def test_tenant_admin_cannot_create_members_of_another_tenant(ta_client, other_tenant):
    response = ta_client.post(
        URL, {"username": "judy", "tenant": str(other_tenant.pk), "role": "handler"}, format="json"
    )

    assert response.status_code == 400
    assert "does not exist" in str(response.json()["tenant"])
    assert not User.objects.filter(username="judy").exists()


@pytest.mark.parametrize("role", ["reporter", "handler", "investigator", "manager", "auditor", "executive"])
def test_other_roles_cannot_create_users(tenant, make_member, api_client_for, role):
    client = api_client_for(make_member(role, tenant))

    response = client.post(
        URL, {"username": "kim", "tenant": str(tenant.pk), "role": "reporter"}, format="json"
    )

    assert response.status_code == 403
    assert not User.objects.filter(username="kim").exists()


def test_tenant_admin_deactivates_a_member_and_it_is_audited(ta_client, tenant_admin, tenant, make_member):
    member = make_member("handler", tenant)

    response = ta_client.patch(detail(member), {"is_active": False}, format="json")

    assert response.status_code == 200, response.json()
    member.refresh_from_db()
    assert member.is_active is False
    [entry] = audit_rows("user.updated", member)
    assert entry.actor_id == tenant_admin.pk
    assert entry.changes == {"is_active": [True, False]}


def test_tenant_admin_cannot_see_or_change_another_tenants_people(ta_client, other_tenant, make_member):
    stranger = make_member("handler", other_tenant)

    assert ta_client.get(detail(stranger)).status_code == 404
    response = ta_client.patch(
        detail(stranger), {"is_active": False, "password": STRONG_PASSWORD}, format="json"
    )

    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active
    assert stranger.check_password("correct-horse-battery")


def test_a_member_cannot_deactivate_itself_or_change_a_colleague(tenant, make_member, api_client_for):
    handler = make_member("handler", tenant)
    colleague = make_member("reporter", tenant)
    client = api_client_for(handler)

    assert client.patch(detail(handler), {"is_active": False}, format="json").status_code == 403
    assert client.patch(detail(colleague), {"first_name": "X"}, format="json").status_code == 403
    handler.refresh_from_db()
    colleague.refresh_from_db()
    assert handler.is_active
    assert colleague.first_name == ""


def test_a_member_edits_its_own_name(tenant, make_member, api_client_for):
    me = make_member("reporter", tenant)

    response = api_client_for(me).patch(detail(me), {"first_name": "Lena"}, format="json")

    assert response.status_code == 200
    assert response.json()["first_name"] == "Lena"
    me.refresh_from_db()
    assert me.first_name == "Lena"


# --- reading -----------------------------------------------------------------------------------------


def test_a_reporter_sees_only_itself(tenant, make_member, api_client_for):
    me = make_member("reporter", tenant)
    make_member("handler", tenant)

    client = api_client_for(me)

    assert result_ids(client.get(URL)) == {str(me.pk)}
    assert client.get(detail(me)).json()["username"] == me.username


def test_an_outsider_sees_only_itself(db, api_client_for):
    me = UserFactory()
    UserFactory()

    assert result_ids(api_client_for(me).get(URL)) == {str(me.pk)}


def test_tenant_admin_sees_its_tenants_people_only(
    ta_client, tenant_admin, tenant, other_tenant, make_member
):
    child = TenantFactory(parent=tenant)
    member = make_member("handler", tenant)
    child_member = make_member("reporter", child)
    stranger = make_member("handler", other_tenant)

    ids = result_ids(ta_client.get(URL))

    assert {str(tenant_admin.pk), str(member.pk), str(child_member.pk)} <= ids
    assert str(stranger.pk) not in ids


def test_platform_admin_sees_everyone(admin_client, superuser, tenant, other_tenant, make_member):
    people = [make_member("handler", tenant), make_member("handler", other_tenant), UserFactory()]

    assert result_ids(admin_client.get(URL)) == {str(superuser.pk), *(str(p.pk) for p in people)}


def test_a_user_belonging_to_two_tenants_is_listed_once(ta_client, tenant, other_tenant, make_member):
    member = make_member("handler", tenant)
    MembershipFactory(user=member, tenant=other_tenant)

    rows = [row["id"] for row in ta_client.get(URL).json()["results"]]

    assert rows.count(str(member.pk)) == 1
