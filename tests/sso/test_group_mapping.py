"""Identity-provider groups → memberships (OIDC_GROUP_ROLES): SSO-managed memberships follow the groups at
each sign-in, hand-made ones are never touched, every change is audited with the SSO source."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from apps.audit.models import AuditEntry
from apps.tenancy.models import Membership, MembershipSource
from config.oidc import check_provider_settings, parse_group_roles
from tests.factories import MembershipFactory, TenantFactory
from tests.sso.conftest import signed_in_user_id, sso


@pytest.fixture
def it(db):
    return TenantFactory(name="IT", slug="it")


@pytest.fixture
def hr(db):
    return TenantFactory(name="HR", slug="hr")


@pytest.fixture
def mapped(oidc, it, hr):
    oidc.OIDC_GROUP_ROLES = parse_group_roles(
        "vigil-it-handlers=it:handler,vigil-it-managers=it:manager,vigil-hr-managers=hr:manager"
    )
    return oidc


def memberships(user_id) -> dict[str, tuple[str, str]]:
    return {
        m.tenant.slug: (m.role, m.source)
        for m in Membership.unscoped.filter(user_id=user_id).select_related("tenant")
    }


def sign_in_with(provider, groups) -> str:
    provider.person.groups = groups
    client = Client()
    sso(client, provider)
    user_id = signed_in_user_id(client)
    assert user_id is not None
    return user_id


def test_mapped_groups_become_memberships_and_unknown_groups_are_ignored(mapped, provider, it, hr):
    user_id = sign_in_with(provider, ["vigil-it-handlers", "vigil-hr-managers", "staff", "vigil-unknown"])
    assert memberships(user_id) == {"it": ("handler", "sso"), "hr": ("manager", "sso")}

    created = AuditEntry.unscoped.filter(verb="membership.created").order_by("seq")
    assert created.count() == 2
    for entry in created:
        assert entry.channel == "sso"
        assert entry.actor_repr == "system"
        assert entry.data["source"] == "sso"
        assert entry.data["issuer"] == provider.issuer
        assert entry.changes["source"] == [None, "sso"]
    assert {e.data["group"] for e in created} == {"vigil-it-handlers", "vigil-hr-managers"}
    assert {str(e.tenant_id) for e in created} == {str(it.pk), str(hr.pk)}
    login = AuditEntry.unscoped.get(verb="auth.sso_login")
    assert sorted(c["action"] for c in login.data["membership_changes"]) == ["added", "added"]


def test_groups_no_longer_present_remove_and_re_role_sso_memberships(mapped, provider):
    user_id = sign_in_with(provider, ["vigil-it-handlers", "vigil-hr-managers"])
    sign_in_with(provider, ["vigil-it-managers"])
    assert memberships(user_id) == {"it": ("manager", "sso")}

    updated = AuditEntry.unscoped.get(verb="membership.updated")
    assert updated.changes == {"role": ["handler", "manager"]}
    assert updated.channel == "sso"
    assert updated.data["group"] == "vigil-it-managers"
    deleted = AuditEntry.unscoped.get(verb="membership.deleted")
    assert deleted.channel == "sso"
    assert deleted.data["source"] == "sso"
    assert deleted.data["user_id"] == user_id

    sign_in_with(provider, [])
    assert memberships(user_id) == {}


def test_the_first_listed_mapping_wins_for_a_tenant(mapped, provider):
    user_id = sign_in_with(provider, ["vigil-it-managers", "vigil-it-handlers"])
    assert memberships(user_id) == {"it": ("handler", "sso")}


def test_memberships_assigned_by_hand_are_never_touched(mapped, provider, it, hr):
    user_id = sign_in_with(provider, [])
    other = TenantFactory(name="Legal", slug="legal")
    MembershipFactory(user_id=user_id, tenant=it, role="auditor")  # by hand, in a mapped tenant
    MembershipFactory(user_id=user_id, tenant=other, role="reporter")  # by hand, elsewhere
    before = AuditEntry.unscoped.filter(verb__startswith="membership.").count()

    sign_in_with(provider, ["vigil-it-managers"])  # a group mapping to the hand-made tenant
    assert memberships(user_id) == {"it": ("auditor", "manual"), "legal": ("reporter", "manual")}
    sign_in_with(provider, [])  # and gone again
    assert memberships(user_id) == {"it": ("auditor", "manual"), "legal": ("reporter", "manual")}
    assert AuditEntry.unscoped.filter(verb__startswith="membership.").count() == before


def test_without_a_mapping_memberships_are_untouched(oidc, provider, it):
    user_id = sign_in_with(provider, [])
    Membership.unscoped.create(user_id=user_id, tenant=it, role="handler", source=MembershipSource.SSO)
    sign_in_with(provider, ["vigil-it-managers"])
    assert memberships(user_id) == {"it": ("handler", "sso")}


def test_a_missing_groups_claim_leaves_memberships_alone(mapped, provider):
    user_id = sign_in_with(provider, ["vigil-it-handlers"])
    sign_in_with(provider, None)  # the provider sent no groups claim at all (misconfigured scope?)
    assert memberships(user_id) == {"it": ("handler", "sso")}


def test_a_nested_groups_claim(mapped, provider):
    mapped.OIDC_GROUPS_CLAIM = "realm_access.roles"
    provider.person.extra = {"realm_access": {"roles": ["vigil-hr-managers"]}}
    user_id = sign_in_with(provider, None)
    assert memberships(user_id) == {"hr": ("manager", "sso")}


def test_an_sso_membership_of_a_tenant_dropped_from_the_mapping_is_removed(mapped, provider):
    user_id = sign_in_with(provider, ["vigil-hr-managers"])
    mapped.OIDC_GROUP_ROLES = parse_group_roles("vigil-it-handlers=it:handler")
    sign_in_with(provider, ["vigil-hr-managers"])
    assert memberships(user_id) == {}


def test_executives_can_be_mapped(oidc, provider, it):
    oidc.OIDC_GROUP_ROLES = parse_group_roles("board=it:executive")
    user_id = sign_in_with(provider, ["board"])
    assert memberships(user_id) == {"it": ("executive", "sso")}


# --------------------------------------------------------------------------------------------------
# Settings parsing (config/oidc.py)
# --------------------------------------------------------------------------------------------------


def test_parse_group_roles():
    assert parse_group_roles("") == ()
    assert parse_group_roles(" a=it:handler , b=hr:manager ,") == (
        ("a", "it", "handler"),
        ("b", "hr", "manager"),
    )
    # LDAP distinguished names: semicolons separate, the last "=" splits.
    assert parse_group_roles("cn=handlers,ou=groups,dc=example=it:handler;cn=x=hr:auditor") == (
        ("cn=handlers,ou=groups,dc=example", "it", "handler"),
        ("cn=x", "hr", "auditor"),
    )
    assert parse_group_roles("a=it:handler,a=hr:handler") == (("a", "it", "handler"), ("a", "hr", "handler"))


@pytest.mark.parametrize(
    "raw", ["a=it", "a:handler", "=it:handler", "a=it:wizard", "a=it:handler,a=it:manager"]
)
def test_parse_group_roles_refuses_bad_entries(raw):
    with pytest.raises(ImproperlyConfigured):
        parse_group_roles(raw)


def test_provider_settings_need_discovery_or_every_endpoint():
    endpoints = {"OIDC_OP_TOKEN_ENDPOINT": "https://idp/token", "OIDC_OP_JWKS_ENDPOINT": ""}
    with pytest.raises(ImproperlyConfigured, match="OIDC_OP_JWKS_ENDPOINT"):
        check_provider_settings(discovery_url="", endpoints=endpoints, sign_algo="RS256")
    check_provider_settings(
        discovery_url="https://idp/.well-known/openid-configuration", endpoints=endpoints, sign_algo="RS256"
    )
    for algo in ("HS256", "none"):
        with pytest.raises(ImproperlyConfigured, match="OIDC_RP_SIGN_ALGO"):
            check_provider_settings(discovery_url="https://idp/x", endpoints={}, sign_algo=algo)


@pytest.mark.parametrize(("amr", "owes_second_factor"), [(["pwd", "mfa"], False), (["pwd"], True)])
def test_a_manager_by_sso_owes_vigils_second_factor_unless_the_provider_did_mfa(
    mapped, provider, amr, owes_second_factor
):
    provider.person.groups, provider.person.amr = ["vigil-hr-managers"], amr
    client = Client()
    sso(client, provider)
    home = client.get("/")
    if owes_second_factor:  # managers must use two-factor authentication (apps.tenancy.two_factor)
        assert home.status_code == 302
        assert "two-factor" in home["Location"]
    else:
        assert home.status_code == 200
