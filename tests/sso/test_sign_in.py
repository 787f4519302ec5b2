"""Single sign-on end to end against the fake provider: accounts, identities, second factor, audit."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.accounts.second_factor import IDP_SECOND_FACTOR_SESSION_KEY
from apps.audit.models import AuditEntry
from apps.tenancy.models import ExternalIdentity
from tests.factories import UserFactory
from tests.sso.conftest import signed_in_user_id, sso

User = get_user_model()


def test_a_new_person_gets_an_account_and_is_signed_in(oidc, provider):
    provider.person.extra = {"is_superuser": True, "is_staff": True, "role": "admin"}  # claims grant nothing
    client = Client()
    response = sso(client, provider)

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get(username="ada")
    assert signed_in_user_id(client) == str(user.pk)
    assert (user.email, user.first_name, user.last_name) == ("ada@example.org", "Ada", "Lovelace")
    assert not user.is_superuser
    assert not user.is_staff
    assert not user.is_service_account
    assert not user.has_usable_password()
    identity = ExternalIdentity.objects.get(user=user)
    assert (identity.issuer, identity.subject) == (provider.issuer, "fake-subject-1")
    assert identity.last_login_at is not None

    login = AuditEntry.unscoped.get(verb="auth.sso_login")
    assert login.actor_id == user.pk
    assert login.channel == "sso"
    assert login.data["created"] is True
    assert login.data["subject"] == "fake-subject-1"
    assert login.data["mfa"] is False
    created = AuditEntry.unscoped.get(verb="user.created", target_id=str(user.pk))
    assert created.channel == "sso"
    assert AuditEntry.unscoped.filter(verb="external_identity.linked", data__how="created").exists()


def test_the_sign_in_uses_state_nonce_and_pkce(oidc, provider):
    sso(Client(), provider)
    asked = provider.authorize_requests[-1]
    assert asked["state"]
    assert asked["nonce"]
    assert asked["code_challenge_method"] == "S256"
    assert asked["code_challenge"]
    assert asked["scope"] == "openid email profile"
    assert provider.token_requests[-1]["code_verifier"]  # the fake checks it against the challenge


def test_next_is_followed_when_it_is_local(oidc, provider):
    assert sso(Client(), provider, next_url="/incidents/")["Location"] == "/incidents/"
    assert sso(Client(), provider, next_url="https://evil.example.org/")["Location"] == "/"


def test_an_unusable_email_claim_is_ignored(oidc, provider):
    provider.person.email = "not an e-mail address"
    client = Client()
    sso(client, provider)
    assert User.objects.get(pk=signed_in_user_id(client)).email == ""


def test_a_returning_person_is_found_by_subject_not_by_email(oidc, provider):
    sso(Client(), provider)
    user = User.objects.get(username="ada")
    provider.person.email = "ada.king@example.org"  # changed at the provider
    provider.person.preferred_username = "ada.king"
    client = Client()
    sso(client, provider)
    assert signed_in_user_id(client) == str(user.pk)
    user.refresh_from_db()
    assert user.email == "ada.king@example.org"  # verified e-mail follows the provider
    assert user.username == "ada"  # the username does not
    assert User.objects.count() == 1
    updated = AuditEntry.unscoped.get(verb="user.updated", target_id=str(user.pk))
    assert updated.channel == "sso"
    assert updated.changes["email"] == [
        "ada@example.org",
        "ada.king@example.org",
    ]
    assert AuditEntry.unscoped.get(verb="auth.sso_login", data__created=False)


def test_an_existing_account_with_the_same_email_is_not_taken_over_by_default(oidc, provider):
    local = UserFactory(username="ada", email="ada@example.org")
    client = Client()
    sso(client, provider)
    new = User.objects.get(pk=signed_in_user_id(client))
    assert new.pk != local.pk
    assert new.username.startswith("ada-")  # never an existing account's name
    assert not ExternalIdentity.objects.filter(user=local).exists()


def test_link_by_verified_email_when_enabled(oidc, provider):
    oidc.OIDC_LINK_BY_EMAIL = True
    local = UserFactory(username="alovelace", email="ADA@example.org")
    client = Client()
    sso(client, provider)
    assert signed_in_user_id(client) == str(local.pk)
    assert ExternalIdentity.objects.get(user=local).subject == "fake-subject-1"
    assert AuditEntry.unscoped.filter(verb="external_identity.linked", data__how="email").exists()
    assert AuditEntry.unscoped.get(verb="auth.sso_login").data["linked_by_email"] is True


@pytest.mark.parametrize("kind", ["unverified", "superuser", "service_account"])
def test_link_by_email_never_links_unverified_or_privileged(oidc, provider, kind):
    oidc.OIDC_LINK_BY_EMAIL = True
    local = UserFactory(
        username="alovelace",
        email="ada@example.org",
        is_superuser=kind == "superuser",
        is_staff=kind == "superuser",
        is_service_account=kind == "service_account",
    )
    provider.person.email_verified = kind != "unverified"
    client = Client()
    sso(client, provider)
    assert signed_in_user_id(client) not in (None, str(local.pk))
    assert not ExternalIdentity.objects.filter(user=local).exists()


def test_unknown_people_are_refused_when_accounts_are_not_created(oidc, provider):
    oidc.OIDC_CREATE_USERS = False
    client = Client()
    response = sso(client, provider)
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/"
    assert signed_in_user_id(client) is None
    assert not User.objects.exists()
    assert not ExternalIdentity.objects.exists()
    failed = AuditEntry.unscoped.get(verb="auth.sso_login_failed")
    assert failed.data["reason"] == "no_account"
    assert failed.channel == "sso"
    page = client.get("/sign-in/")
    assert b"gives no access to Vigil" in page.content


def test_a_deactivated_account_is_refused(oidc, provider):
    sso(Client(), provider)
    User.objects.filter(username="ada").update(is_active=False)
    client = Client()
    sso(client, provider)
    assert signed_in_user_id(client) is None
    assert AuditEntry.unscoped.get(verb="auth.sso_login_failed").data["reason"] == "inactive"


def test_deactivating_a_person_ends_their_single_sign_on_session(oidc, provider):
    client = Client()
    sso(client, provider)
    assert client.get("/sign-in/").status_code == 302  # signed in: the sign-in page sends them on
    User.objects.filter(username="ada").update(is_active=False)
    assert client.get("/sign-in/").status_code == 200  # the session no longer signs anyone in


def test_a_service_account_never_signs_in_by_sso(oidc, provider):
    sso(Client(), provider)
    User.objects.filter(username="ada").update(is_service_account=True)
    client = Client()
    sso(client, provider)
    assert signed_in_user_id(client) is None
    assert AuditEntry.unscoped.get(verb="auth.sso_login_failed").data["reason"] == "service_account"


# --------------------------------------------------------------------------------------------------
# Second factor (contract with apps/accounts/second_factor.py)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amr", "acr", "acr_setting", "expected"),
    [
        (["pwd", "mfa"], None, [], True),
        (["pwd", "otp"], None, [], True),
        (["hwk"], None, [], True),
        (["pwd"], None, [], False),
        (None, None, [], False),
        (["pwd"], "urn:example:mfa", ["urn:example:mfa"], True),
        (["pwd"], "urn:example:pwd", ["urn:example:mfa"], False),
    ],
)
def test_the_providers_multi_factor_assertion_marks_the_session(
    oidc, provider, amr, acr, acr_setting, expected
):
    oidc.OIDC_MFA_ACR = acr_setting
    provider.person.amr, provider.person.acr = amr, acr
    client = Client()
    sso(client, provider)
    assert signed_in_user_id(client) is not None
    assert client.session.get(IDP_SECOND_FACTOR_SESSION_KEY, False) is expected
    assert AuditEntry.unscoped.get(verb="auth.sso_login").data["mfa"] is expected


def test_a_later_sign_in_without_mfa_drops_the_mark(oidc, provider):
    client = Client()
    provider.person.amr = ["mfa"]
    sso(client, provider)
    assert client.session[IDP_SECOND_FACTOR_SESSION_KEY] is True
    provider.person.amr = ["pwd"]
    sso(client, provider)
    assert IDP_SECOND_FACTOR_SESSION_KEY not in client.session


# --------------------------------------------------------------------------------------------------
# Configuration: discovery, explicit endpoints, the sign-in page
# --------------------------------------------------------------------------------------------------


def test_explicit_endpoints_work_without_discovery(oidc, provider):
    oidc.OIDC_OP_DISCOVERY_URL = ""
    oidc.OIDC_OP_ISSUER = provider.issuer
    oidc.OIDC_OP_AUTHORIZATION_ENDPOINT = provider.url("/authorize")
    oidc.OIDC_OP_TOKEN_ENDPOINT = provider.url("/token")
    oidc.OIDC_OP_USER_ENDPOINT = provider.url("/userinfo")
    oidc.OIDC_OP_JWKS_ENDPOINT = provider.url("/jwks")
    client = Client()
    sso(client, provider)
    assert signed_in_user_id(client) is not None
    assert "/.well-known/openid-configuration" not in provider.hits


def test_discovery_is_fetched_once_and_cached(oidc, provider):
    sso(Client(), provider)
    sso(Client(), provider)
    assert provider.hits.count("/.well-known/openid-configuration") == 1


def test_a_password_sign_in_never_contacts_the_provider(oidc, provider, make_member, tenant):
    make_member("handler", tenant, username="bob")
    client = Client()
    response = client.post("/sign-in/", {"username": "bob", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert signed_in_user_id(client) is not None
    assert provider.hits == []


def test_the_sign_in_page_offers_the_provider(oidc, provider):
    page = Client().get("/sign-in/?next=/queue/")
    assert page.status_code == 200
    assert b"Sign in with Fake IdP" in page.content
    assert b'href="/sso/start/?next=/queue/"' in page.content
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert "form-action 'self'" in page["Content-Security-Policy"]


def test_an_unreachable_provider_is_a_friendly_refusal(oidc, provider):
    oidc.OIDC_OP_DISCOVERY_URL = "http://127.0.0.1:9/.well-known/openid-configuration"
    client = Client()
    response = client.get("/sso/start/")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/"
    assert b"cannot be reached" in client.get("/sign-in/").content
    assert AuditEntry.unscoped.get(verb="auth.sso_login_failed").data["reason"] == "provider_unavailable"
