"""Four-eyes on one's own access (apps/tenancy/four_eyes.py): a role change or new membership that widens
its requester's own access waits, as a pending request (202), for another administrator of the tenant or a
platform administrator; request, approval and refusal are audited. API and admin site."""

import pytest
from django.test import Client

from apps.audit.models import AuditEntry
from apps.tenancy.access import access_for
from apps.tenancy.context import activate
from apps.tenancy.models import Membership, MembershipRequest
from apps.tenancy.roles import Scope
from tests.factories import TenantFactory, UserFactory
from tests.two_factor import sign_in_verified

MEMBERSHIPS = "/api/v1/memberships/"
REQUESTS = "/api/v1/membership-requests/"


def audited(verb: str, target) -> list[AuditEntry]:
    """The trail's entries of the verb about the target, read as a platform administrator would."""
    with activate(access_for(UserFactory(is_superuser=True, is_staff=True))):
        return list(AuditEntry.unscoped.filter(verb=verb, target_id=str(target.pk)).order_by("id"))


def own_membership(user, tenant) -> Membership:
    return Membership.unscoped.get(user=user, tenant=tenant)


@pytest.fixture
def admin_a(make_member, tenant):
    return make_member("tenant_admin", tenant)


@pytest.fixture
def admin_b(make_member, tenant):
    return make_member("tenant_admin", tenant)


def ask_to_be_manager(client, membership):
    return client.patch(f"{MEMBERSHIPS}{membership.pk}/", {"role": "manager"}, format="json")


def test_a_tenant_admin_making_itself_manager_waits_for_a_second_admin(admin_a, tenant, api_client_for):
    membership = own_membership(admin_a, tenant)

    response = ask_to_be_manager(api_client_for(admin_a), membership)

    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["status"], body["role"], body["previous_role"]) == ("pending", "manager", "tenant_admin")
    assert (body["user"], body["tenant"]) == (str(admin_a.pk), str(tenant.pk))
    assert body["requested_by"] == str(admin_a.pk)
    membership.refresh_from_db()
    assert membership.role == "tenant_admin"
    assert not access_for(admin_a).has_scope(tenant.id, Scope.REPORTER_IDENTITY)
    request = MembershipRequest.unscoped.get(pk=body["id"])
    [entry] = audited("membership.change_requested", request)
    assert (entry.actor_id, entry.changes["role"]) == (admin_a.pk, ["tenant_admin", "manager"])
    # The requester sees its request, and cannot ask twice.
    mine = api_client_for(admin_a).get(f"{REQUESTS}{request.pk}/")
    assert mine.status_code == 200
    assert mine.json()["status"] == "pending"
    again = ask_to_be_manager(api_client_for(admin_a), membership)
    assert again.status_code == 400
    assert "role" in again.json()


def test_another_tenant_admin_approves_and_the_role_takes_effect(admin_a, admin_b, tenant, api_client_for):
    membership = own_membership(admin_a, tenant)
    request_id = ask_to_be_manager(api_client_for(admin_a), membership).json()["id"]

    selfish = api_client_for(admin_a).post(f"{REQUESTS}{request_id}/approve/")
    assert selfish.status_code == 403, selfish.json()
    membership.refresh_from_db()
    assert membership.role == "tenant_admin"

    approved = api_client_for(admin_b).post(f"{REQUESTS}{request_id}/approve/")

    assert approved.status_code == 200, approved.json()
    membership.refresh_from_db()
    assert membership.role == "manager"
    assert access_for(admin_a).has_scope(tenant.id, Scope.REPORTER_IDENTITY)
    request = MembershipRequest.unscoped.get(pk=request_id)
    assert (request.status, request.decided_by_id) == ("approved", admin_b.pk)
    [entry] = audited("membership.change_approved", request)
    assert entry.actor_id == admin_b.pk
    [change] = audited("membership.updated", membership)
    assert (change.actor_id, change.changes["role"]) == (admin_b.pk, ["tenant_admin", "manager"])
    twice = api_client_for(admin_b).post(f"{REQUESTS}{request_id}/refuse/")
    assert twice.status_code == 400, twice.json()


def test_a_refused_request_changes_nothing_and_is_audited(admin_a, admin_b, tenant, api_client_for):
    membership = own_membership(admin_a, tenant)
    request_id = ask_to_be_manager(api_client_for(admin_a), membership).json()["id"]

    refused = api_client_for(admin_b).post(f"{REQUESTS}{request_id}/refuse/")

    assert refused.status_code == 200, refused.json()
    assert refused.json()["status"] == "refused"
    membership.refresh_from_db()
    assert membership.role == "tenant_admin"
    [entry] = audited("membership.change_refused", MembershipRequest.unscoped.get(pk=request_id))
    assert entry.actor_id == admin_b.pk


def test_a_new_own_membership_in_a_covered_tenant_waits_too(admin_a, admin_b, tenant, api_client_for):
    """A tenant admin of the parent tenant adding itself as manager of a child tenant."""
    child = TenantFactory(parent=tenant, name="Payroll")
    body = {"user": str(admin_a.pk), "tenant": str(child.pk), "role": "manager"}

    response = api_client_for(admin_a).post(MEMBERSHIPS, body, format="json")

    assert response.status_code == 202, response.json()
    assert not Membership.unscoped.filter(user=admin_a, tenant=child).exists()
    approved = api_client_for(admin_b).post(f"{REQUESTS}{response.json()['id']}/approve/")
    assert approved.status_code == 200, approved.json()
    assert own_membership(admin_a, child).role == "manager"


def test_a_platform_administrator_making_itself_manager_needs_another(tenant, api_client_for):
    root, other_root = (UserFactory(is_superuser=True, is_staff=True) for _ in range(2))
    body = {"user": str(root.pk), "tenant": str(tenant.pk), "role": "manager"}

    response = api_client_for(root).post(MEMBERSHIPS, body, format="json")

    assert response.status_code == 202, response.json()
    approved = api_client_for(other_root).post(f"{REQUESTS}{response.json()['id']}/approve/")
    assert approved.status_code == 200, approved.json()
    assert own_membership(root, tenant).role == "manager"


def test_narrowing_ones_own_access_and_changing_others_apply_at_once(
    admin_a, make_member, tenant, api_client_for
):
    handler = make_member("handler", tenant)
    client = api_client_for(admin_a)

    others = client.patch(
        f"{MEMBERSHIPS}{own_membership(handler, tenant).pk}/", {"role": "manager"}, format="json"
    )
    narrower = client.patch(
        f"{MEMBERSHIPS}{own_membership(admin_a, tenant).pk}/", {"role": "reporter"}, format="json"
    )

    assert others.status_code == 200, others.json()
    assert narrower.status_code == 200, narrower.json()
    assert own_membership(handler, tenant).role == "manager"
    assert own_membership(admin_a, tenant).role == "reporter"
    assert not MembershipRequest.unscoped.exists()


def test_people_without_member_administration_see_no_request(
    admin_a, make_member, tenant, other_tenant, api_client_for
):
    request_id = ask_to_be_manager(api_client_for(admin_a), own_membership(admin_a, tenant)).json()["id"]
    outsider_admin = make_member("tenant_admin", other_tenant)
    handler = make_member("handler", tenant)

    assert api_client_for(outsider_admin).get(f"{REQUESTS}{request_id}/").status_code == 404
    assert api_client_for(outsider_admin).post(f"{REQUESTS}{request_id}/approve/").status_code == 404
    assert api_client_for(handler).get(f"{REQUESTS}{request_id}/").status_code == 404
    assert own_membership(admin_a, tenant).role == "tenant_admin"


def test_on_the_admin_site_a_self_promotion_waits_and_another_admin_approves(admin_a, admin_b, tenant):
    membership = own_membership(admin_a, tenant)
    browser = sign_in_verified(Client(), admin_a)

    response = browser.post(
        f"/admin/tenancy/membership/{membership.pk}/change/", {"role": "manager", "_save": "Save"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/tenancy/membershiprequest/"
    membership.refresh_from_db()
    assert membership.role == "tenant_admin"
    request = MembershipRequest.unscoped.get(user=admin_a, tenant=tenant, status="pending")

    other = sign_in_verified(Client(), admin_b)
    decided = other.post(
        "/admin/tenancy/membershiprequest/",
        {"action": "approve", "_selected_action": [str(request.pk)], "index": "0"},
    )

    assert decided.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "manager"
    [entry] = audited("membership.change_approved", request)
    assert (entry.actor_id, entry.channel) == (admin_b.pk, "admin")


def test_in_the_tenants_member_inline_a_self_promotion_waits_too(admin_a, tenant):
    from tests.tenancy.test_admin import inline_data

    rows = list(Membership.unscoped.filter(tenant=tenant).order_by("pk"))
    data = inline_data(tenant)
    data["-1-TOTAL_FORMS"] = data["-1-INITIAL_FORMS"] = str(len(rows))
    for i, row in enumerate(rows):
        role = "manager" if row.user_id == admin_a.pk else row.role
        data.update({f"-1-{i}-id": str(row.pk), f"-1-{i}-user": str(row.user_id), f"-1-{i}-role": role})
        data[f"-1-{i}-tenant"] = str(tenant.pk)
    browser = sign_in_verified(Client(), admin_a)

    response = browser.post(f"/admin/tenancy/tenant/{tenant.pk}/change/", data)

    assert response.status_code == 302
    assert own_membership(admin_a, tenant).role == "tenant_admin"
    request = MembershipRequest.unscoped.get(user=admin_a, tenant=tenant)
    assert (request.status, request.role) == ("pending", "manager")
