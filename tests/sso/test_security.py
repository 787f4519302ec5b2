"""Single sign-on refuses forged or replayed answers: nobody is signed in, nothing is created, and the refusal
is on the audit trail. Off, it leaves no trace: no routes, no backend, no button."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import NoReverseMatch, reverse

from apps.audit.models import AuditEntry
from apps.tenancy.models import ExternalIdentity
from apps.web.models import SignInThrottle
from apps.web.sso import SSO_LOCK_FAILURES, SSO_THROTTLE_KEY
from tests.sso.conftest import BACKEND, signed_in_user_id, sso

User = get_user_model()


def assert_refused(client, response, reason: str) -> None:
    assert (response.status_code, response["Location"]) == (302, "/sign-in/"), response
    assert signed_in_user_id(client) is None
    assert not User.objects.exists()
    assert not ExternalIdentity.objects.exists()
    failed = AuditEntry.unscoped.filter(verb="auth.sso_login_failed").latest("seq")
    assert failed.data["reason"] == reason, failed.data
    assert failed.actor_id is None
    assert failed.channel == "sso"
    assert not AuditEntry.unscoped.filter(verb="auth.sso_login").exists()


@pytest.mark.parametrize(
    "tamper",
    [
        "signature",  # signed with another key under the provider's key id
        "nonce",  # an ID token minted for another sign-in
        "aud",  # meant for another client
        "iss",  # from another issuer
        "expired",
        "no_sub",
        "hs256",  # algorithm confusion: HMAC with the client secret
        "unsigned",  # alg none
        "userinfo_sub",  # userinfo about somebody else
    ],
)
def test_a_forged_or_foreign_token_is_refused(oidc, provider, tamper):
    provider.tamper = {tamper}
    client = Client()
    response = sso(client, provider)
    assert_refused(client, response, "invalid_userinfo" if tamper == "userinfo_sub" else "invalid_token")
    assert b"Single sign-on failed" in client.get("/sign-in/").content


def test_a_wrong_state_is_refused(oidc, provider):
    provider.tamper = {"state"}
    client = Client()
    response = sso(client, provider)
    assert_refused(client, response, "invalid_state")
    assert "/token" not in provider.hits  # the code was never redeemed


def test_an_answer_to_another_browser_is_refused(oidc, provider):
    victim = Client()
    start = victim.get("/sso/start/")
    answer = requests.get(start["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(answer.headers["Location"])
    attacker = Client()  # never started a sign-in: the state is not in its session
    response = attacker.get(back.path + "?" + back.query)
    assert_refused(attacker, response, "invalid_state")
    assert "/token" not in provider.hits


def test_a_replayed_answer_is_refused(oidc, provider):
    callback = []
    client = Client()
    sso(client, provider, replay=callback)
    response = client.get(callback[0])  # the same answer again, in the same browser
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/"
    assert AuditEntry.unscoped.filter(verb="auth.sso_login").count() == 1
    assert AuditEntry.unscoped.get(verb="auth.sso_login_failed").data["reason"] == "invalid_state"
    assert provider.hits.count("/token") == 1  # the code was redeemed once


def test_the_provider_reporting_an_error_is_audited_but_not_counted(oidc, provider):
    provider.tamper = {"deny"}
    client = Client()
    response = sso(client, provider)
    assert_refused(client, response, "provider_refused")
    assert b"cancelled or refused" in client.get("/sign-in/").content
    assert SignInThrottle.objects.get(username=SSO_THROTTLE_KEY).failures == 0


def test_repeated_failures_lock_single_sign_on_from_that_address(oidc, provider):
    provider.tamper = {"state"}
    for _ in range(SSO_LOCK_FAILURES):
        sso(Client(), provider, ip="10.9.9.9")
    assert AuditEntry.unscoped.filter(verb="auth.locked", data__username=SSO_THROTTLE_KEY).count() == 1
    provider.tamper = set()
    client = Client()
    response = client.get("/sso/start/", REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/"
    assert b"Too many failed single sign-ons" in client.get("/sign-in/").content
    # Another address is not affected.
    other = Client()
    sso(other, provider, ip="10.9.9.10")
    assert signed_in_user_id(other) is not None


def test_disabled_by_default_no_routes_no_backend_no_button(db):
    assert settings.OIDC_ENABLED is False
    assert BACKEND not in settings.AUTHENTICATION_BACKENDS
    with pytest.raises(NoReverseMatch):
        reverse("web:sso-start")
    client = Client()
    assert client.get("/sso/start/").status_code == 404
    assert client.get("/sso/callback/?code=x&state=y").status_code == 404
    page = client.get("/sign-in/")
    assert page.status_code == 200
    assert b"/sso/" not in page.content
    assert b"Sign in with" not in page.content
