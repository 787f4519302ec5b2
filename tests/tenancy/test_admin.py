"""The admin site: superusers see everything; tenant admins, managers, auditors and executives sign in by
role (not staff status) and see only their tenants; reporters and handlers stay out."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from apps.audit.models import AuditEntry
from apps.tenancy import services
from apps.tenancy.access import access_for
from apps.tenancy.context import activate
from apps.tenancy.models import Membership, Tenant
from tests.factories import IncidentFactory, MembershipFactory, TenantFactory, UserFactory
from tests.two_factor import pass_second_factor, sign_in_verified

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory
ADMIN_ROLES = ["tenant_admin", "manager", "auditor", "executive"]


@pytest.fixture
def world(tenant, other_tenant, superuser):
    """Tenant A (`tenant`) with a child, tenant B (`other_tenant`), incidents and audit rows in each."""
    child = TenantFactory(parent=tenant, name="Payroll")
    access = access_for(superuser)
    with transaction.atomic(), activate(access):
        for t in (tenant, child, other_tenant):
            services.membership_create(
                actor=superuser, access=access, user=UserFactory(), tenant=t, role="reporter"
            )
    return {
        "a": tenant,
        "child": child,
        "b": other_tenant,
        "incidents": {
            "a": IncidentFactory(tenant=tenant),
            "child": IncidentFactory(tenant=child),
            "b": IncidentFactory(tenant=other_tenant),
        },
    }


def admin_login(username: str) -> tuple[Client, object]:
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": username, "password": PASSWORD})
    # The password was right: the second factor next (tests/two_factor.py).
    if "_auth_user_id" in client.session:
        pass_second_factor(client, get_user_model().objects.get(username=username))
    return client, response


def changelist(client, model: str):
    response = client.get(f"/admin/{model}/")
    assert response.status_code == 200, response.status_code
    return list(response.context["cl"].result_list)


def inline_data(tenant, rows=(), **overrides) -> dict:
    """The tenant change form as the browser posts it, with new membership rows in the inline."""
    data = {
        "name": tenant.name,
        "slug": tenant.slug,
        "parent": str(tenant.parent_id or ""),
        "time_zone": tenant.time_zone,
        "country": tenant.country,
        "reference_prefix": tenant.reference_prefix,
        "settings": json.dumps(tenant.settings),
        "-1-TOTAL_FORMS": str(len(rows)),
        "-1-INITIAL_FORMS": "0",
        "-1-MIN_NUM_FORMS": "0",
        "-1-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for i, (user, role) in enumerate(rows):
        data[f"-1-{i}-user"] = str(user.pk)
        data[f"-1-{i}-role"] = role
        data[f"-1-{i}-tenant"] = str(tenant.pk)
    data.update(overrides)
    return data


# --- signing in --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ADMIN_ROLES)
def test_admin_roles_sign_in_without_staff_status(world, make_member, role):
    user = make_member(role, world["a"])
    assert not user.is_staff

    client, response = admin_login(user.username)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("role", ["reporter", "handler", "investigator"])
def test_other_roles_cannot_sign_in(world, make_member, role):
    user = make_member(role, world["a"])

    client, response = admin_login(user.username)

    assert response.status_code == 200  # the form again, with its error
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("role", ["reporter", "handler"])
def test_a_signed_in_member_without_an_admin_role_is_sent_to_the_login(world, make_member, role):
    client = Client()
    client.force_login(make_member(role, world["a"]))

    response = client.get("/admin/tenancy/tenant/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_an_outsider_and_a_deactivated_admin_cannot_sign_in(world, make_member):
    outsider = UserFactory()
    inactive = make_member("tenant_admin", world["a"], is_active=False)

    for user in (outsider, inactive):
        client, response = admin_login(user.username)
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session


# --- what each sees ----------------------------------------------------------------------------------


def test_superuser_sees_every_tenant(world, superuser):
    client = Client()
    sign_in_verified(client, superuser)

    tenants = changelist(client, "tenancy/tenant")

    assert {t.pk for t in tenants} == {world["a"].pk, world["child"].pk, world["b"].pk}


@pytest.mark.parametrize("role", ADMIN_ROLES)
def test_admin_roles_see_only_their_tenants(world, make_member, role):
    user = make_member(role, world["a"])
    client, _ = admin_login(user.username)
    mine = {world["a"].pk, world["child"].pk}

    tenants = changelist(client, "tenancy/tenant")
    memberships = changelist(client, "tenancy/membership")

    assert {t.pk for t in tenants} == mine
    assert {m.tenant_id for m in memberships} == mine
    assert len(memberships) == Membership.unscoped.filter(tenant__in=mine).count()


@pytest.mark.parametrize("role", ["manager", "auditor", "executive"])
def test_incident_readers_see_only_their_tenants_incidents(world, make_member, role):
    client, _ = admin_login(make_member(role, world["a"]).username)

    incidents = changelist(client, "response/incident")

    assert {i.pk for i in incidents} == {world["incidents"]["a"].pk, world["incidents"]["child"].pk}


def test_tenant_admin_does_no_incident_work(world, make_member):
    client, _ = admin_login(make_member("tenant_admin", world["a"]).username)

    assert changelist(client, "response/incident") == []


def test_auditor_sees_only_its_tenants_audit_trail(world, make_member):
    client, _ = admin_login(make_member("auditor", world["a"]).username)

    entries = changelist(client, "audit/auditentry")

    assert entries
    assert {e.tenant_id for e in entries} == {world["a"].pk, world["child"].pk}


@pytest.mark.parametrize("role", ["tenant_admin", "manager", "executive"])
def test_roles_without_audit_read_cannot_open_the_audit_trail(world, make_member, role):
    client, _ = admin_login(make_member(role, world["a"]).username)

    assert client.get("/admin/audit/auditentry/").status_code == 403


@pytest.mark.parametrize("role", ADMIN_ROLES)
def test_another_tenants_objects_are_not_pages(world, make_member, role):
    client, _ = admin_login(make_member(role, world["a"]).username)
    foreign_membership = Membership.unscoped.filter(tenant=world["b"]).first()
    foreign_audit = AuditEntry.unscoped.filter(tenant=world["b"]).first()
    urls = [
        f"/admin/tenancy/tenant/{world['b'].pk}/change/",
        f"/admin/tenancy/tenant/{world['b'].pk}/history/",
        f"/admin/tenancy/membership/{foreign_membership.pk}/change/",
        f"/admin/tenancy/membership/{foreign_membership.pk}/delete/",
        f"/admin/response/incident/{world['incidents']['b'].pk}/change/",
        f"/admin/audit/auditentry/{foreign_audit.pk}/change/",
    ]

    for url in urls:
        response = client.get(url)
        assert response.status_code in (403, 404), (url, response.status_code)
        assert world["b"].name not in response.content.decode()


def test_a_missing_id_in_an_admin_url_is_404(world, superuser):
    client = Client()
    sign_in_verified(client, superuser)

    assert client.get("/admin/tenancy/tenant/not-a-uuid/change/").status_code == 404
    assert client.get(f"/admin/tenancy/tenant/{world['b'].pk}/change/").status_code == 200


# --- writes through the admin are the services' and are audited ------------------------------------


def test_superuser_adds_a_membership_through_the_tenant_inline(world, superuser):
    client = Client()
    sign_in_verified(client, superuser)
    newcomer = UserFactory()

    response = client.post(
        f"/admin/tenancy/tenant/{world['b'].pk}/change/",
        inline_data(world["b"], rows=[(newcomer, "executive")]),
    )

    assert response.status_code == 302, response.context and response.context.get("errors")
    membership = Membership.unscoped.get(user=newcomer)
    assert (membership.tenant_id, membership.role) == (world["b"].pk, "executive")
    [entry] = AuditEntry.unscoped.filter(verb="membership.created", target_id=str(membership.pk))
    assert (entry.actor_id, entry.tenant_id, entry.channel) == (superuser.pk, world["b"].pk, "admin")
    assert entry.changes == {"user": [None, str(newcomer.pk)], "role": [None, "executive"]}


def test_tenant_admin_adds_a_membership_through_its_tenant_inline(world, make_member):
    admin = make_member("tenant_admin", world["a"])
    newcomer = Membership.unscoped.filter(tenant=world["child"], role="reporter").first().user
    client, _ = admin_login(admin.username)

    response = client.post(
        f"/admin/tenancy/tenant/{world['a'].pk}/change/",
        inline_data(world["a"], rows=[(newcomer, "handler")]),
    )

    assert response.status_code == 302, response.context and response.context.get("errors")
    membership = Membership.unscoped.get(user=newcomer, tenant=world["a"])
    assert membership.role == "handler"
    [entry] = AuditEntry.unscoped.filter(verb="membership.created", target_id=str(membership.pk))
    assert (entry.actor_id, entry.tenant_id, entry.channel) == (admin.pk, world["a"].pk, "admin")


def test_tenant_admin_changes_and_removes_members_through_the_inline(world, make_member):
    admin = make_member("tenant_admin", world["a"])
    stays = Membership.unscoped.get(tenant=world["a"], role="reporter")
    leaves = Membership.unscoped.get(user=make_member("handler", world["a"]))
    rows = Membership.unscoped.filter(tenant=world["a"]).order_by("pk")
    data = inline_data(world["a"])
    data["-1-TOTAL_FORMS"] = data["-1-INITIAL_FORMS"] = str(len(rows))
    for i, row in enumerate(rows):
        data.update({f"-1-{i}-id": str(row.pk), f"-1-{i}-user": str(row.user_id), f"-1-{i}-role": row.role})
        data[f"-1-{i}-tenant"] = str(world["a"].pk)
        if row.pk == stays.pk:
            data[f"-1-{i}-role"] = "investigator"
        if row.pk == leaves.pk:
            data[f"-1-{i}-DELETE"] = "on"
    client, _ = admin_login(admin.username)

    response = client.post(f"/admin/tenancy/tenant/{world['a'].pk}/change/", data)

    assert response.status_code == 302, response.context and response.context.get("errors")
    stays.refresh_from_db()
    assert stays.role == "investigator"
    assert not Membership.unscoped.filter(pk=leaves.pk).exists()
    assert Membership.unscoped.filter(pk=Membership.unscoped.get(user=admin).pk).exists()
    [updated] = AuditEntry.unscoped.filter(verb="membership.updated", target_id=str(stays.pk))
    [deleted] = AuditEntry.unscoped.filter(verb="membership.deleted", target_id=str(leaves.pk))
    assert updated.changes == {"role": ["reporter", "investigator"]}
    assert {updated.channel, deleted.channel} == {"admin"}
    assert {updated.actor_id, deleted.actor_id} == {admin.pk}


def test_tenant_admin_renames_its_tenant_and_it_is_audited(world, make_member):
    admin = make_member("tenant_admin", world["a"])
    client, _ = admin_login(admin.username)

    response = client.post(
        f"/admin/tenancy/tenant/{world['a'].pk}/change/", inline_data(world["a"], name="Fin Ops")
    )

    assert response.status_code == 302
    world["a"].refresh_from_db()
    assert world["a"].name == "Fin Ops"
    [entry] = AuditEntry.unscoped.filter(verb="tenant.updated", target_id=str(world["a"].pk))
    assert (entry.actor_id, entry.channel, entry.changes) == (
        admin.pk,
        "admin",
        {"name": ["Finance", "Fin Ops"]},
    )


def test_tenant_admin_adds_a_membership_on_the_add_page(world, make_member):
    admin = make_member("tenant_admin", world["a"])
    newcomer = Membership.unscoped.filter(tenant=world["child"], role="reporter").first().user
    client, _ = admin_login(admin.username)

    response = client.post(
        "/admin/tenancy/membership/add/",
        {"user": str(newcomer.pk), "tenant": str(world["a"].pk), "role": "manager", "_save": "Save"},
    )

    assert response.status_code == 302
    membership = Membership.unscoped.get(user=newcomer, tenant=world["a"])
    assert membership.role == "manager"
    [entry] = AuditEntry.unscoped.filter(verb="membership.created", target_id=str(membership.pk))
    assert (entry.actor_id, entry.tenant_id, entry.channel) == (admin.pk, world["a"].pk, "admin")


def test_tenant_admin_changes_a_role_on_the_change_page(world, make_member):
    admin = make_member("tenant_admin", world["a"])
    membership = Membership.unscoped.filter(tenant=world["a"], role="reporter").first()
    client, _ = admin_login(admin.username)

    response = client.post(
        f"/admin/tenancy/membership/{membership.pk}/change/", {"role": "auditor", "_save": "Save"}
    )

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "auditor"
    [entry] = AuditEntry.unscoped.filter(verb="membership.updated", target_id=str(membership.pk))
    assert (entry.actor_id, entry.channel, entry.changes) == (
        admin.pk,
        "admin",
        {"role": ["reporter", "auditor"]},
    )


@pytest.mark.parametrize("case", ["executive-role", "foreign-tenant", "foreign-user"])
def test_tenant_admin_cannot_add_beyond_its_powers(world, make_member, case):
    admin = make_member("tenant_admin", world["a"])
    colleague = Membership.unscoped.filter(tenant=world["child"], role="reporter").first().user
    stranger = Membership.unscoped.filter(tenant=world["b"]).first().user
    user, tenant, role = {
        "executive-role": (colleague, world["a"], "executive"),
        "foreign-tenant": (colleague, world["b"], "handler"),
        # A person the tenant admin cannot see (member of B only) cannot be pulled into A.
        "foreign-user": (stranger, world["a"], "handler"),
    }[case]
    client, _ = admin_login(admin.username)
    before = Membership.unscoped.count()

    response = client.post(
        "/admin/tenancy/membership/add/",
        {"user": str(user.pk), "tenant": str(tenant.pk), "role": role, "_save": "Save"},
    )

    assert response.status_code in (200, 403)  # the form with its error, or refused
    if response.status_code == 200:
        assert response.context["errors"]
    assert Membership.unscoped.count() == before
    assert not Membership.unscoped.filter(user=user, tenant=tenant, role=role).exists()


def test_tenant_admin_cannot_make_an_executive_in_the_inline(world, make_member):
    admin = make_member("tenant_admin", world["a"])
    newcomer = Membership.unscoped.filter(tenant=world["child"], role="reporter").first().user
    client, _ = admin_login(admin.username)

    response = client.post(
        f"/admin/tenancy/tenant/{world['a'].pk}/change/",
        inline_data(world["a"], rows=[(newcomer, "executive")]),
    )

    assert response.status_code in (200, 403)
    assert not Membership.unscoped.filter(user=newcomer, tenant=world["a"]).exists()


# --- read-only roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["executive", "auditor"])
def test_read_only_roles_cannot_change_anything(world, make_member, role):
    client, _ = admin_login(make_member(role, world["a"]).username)
    membership = Membership.unscoped.filter(tenant=world["a"], role="reporter").first()
    newcomer = Membership.unscoped.filter(tenant=world["child"], role="reporter").first().user

    add_pages = [client.get(url) for url in ("/admin/tenancy/membership/add/", "/admin/tenancy/tenant/add/")]
    changed = client.post(
        f"/admin/tenancy/membership/{membership.pk}/change/", {"role": "manager", "_save": "Save"}
    )
    added = client.post(
        "/admin/tenancy/membership/add/",
        {"user": str(newcomer.pk), "tenant": str(world["a"].pk), "role": "reporter", "_save": "Save"},
    )
    renamed = client.post(
        f"/admin/tenancy/tenant/{world['a'].pk}/change/", inline_data(world["a"], name="Mine")
    )
    deleted = client.post(f"/admin/tenancy/membership/{membership.pk}/delete/", {"post": "yes"})
    tenant_page = client.get(f"/admin/tenancy/tenant/{world['a'].pk}/change/")

    assert [r.status_code for r in add_pages] == [403, 403]
    assert (changed.status_code, added.status_code, renamed.status_code, deleted.status_code) == (
        403,
        403,
        403,
        403,
    )
    membership.refresh_from_db()
    assert membership.role == "reporter"
    assert not Membership.unscoped.filter(user=newcomer, tenant=world["a"]).exists()
    assert Tenant.objects.get(pk=world["a"].pk).name == "Finance"
    assert tenant_page.status_code == 200
    assert tenant_page.context["has_change_permission"] is False
    assert tenant_page.context["has_add_permission"] is False
    assert not AuditEntry.unscoped.filter(channel="admin").exists()


def test_executive_changelists_offer_no_add(world, make_member):
    client, _ = admin_login(make_member("executive", world["a"]).username)

    for model in ("tenancy/tenant", "tenancy/membership", "response/incident"):
        response = client.get(f"/admin/{model}/")
        assert response.status_code == 200
        assert response.context["has_add_permission"] is False, model


def test_another_tenant_admins_inline_cannot_reach_a_foreign_tenant(world, make_member):
    client, _ = admin_login(make_member("tenant_admin", world["a"]).username)
    newcomer = UserFactory()
    MembershipFactory(user=newcomer, tenant=world["child"], role="reporter")

    response = client.post(
        f"/admin/tenancy/tenant/{world['b'].pk}/change/",
        inline_data(world["b"], rows=[(newcomer, "handler")]),
    )

    assert response.status_code in (403, 404)
    assert not Membership.unscoped.filter(user=newcomer, tenant=world["b"]).exists()
