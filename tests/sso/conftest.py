"""Single sign-on against the local fake provider (tests/sso/fake_oidc.py).

`oidc` turns single sign-on on for one test the way the environment would: the OIDC_* settings, the backend in
AUTHENTICATION_BACKENDS and the routes (apps/web/urls.py reads OIDC_ENABLED when imported, so the URL
modules are reloaded on the way in and out)."""

from __future__ import annotations

import importlib
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client
from django.urls import clear_url_caches

from apps.tenancy.oidc import discovery_cache_clear
from tests.sso.fake_oidc import CLIENT_ID, CLIENT_SECRET, FakeProvider, new_key

BACKEND = "apps.tenancy.oidc.VigilOIDCBackend"


def reload_urls() -> None:
    import apps.web.urls
    import config.urls

    importlib.reload(apps.web.urls)
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.fixture(scope="session")
def _keys():
    return new_key(), new_key()


@pytest.fixture(scope="session")
def _provider_server(_keys):
    provider = FakeProvider(*_keys).start()
    yield provider
    provider.stop()


@pytest.fixture
def provider(_provider_server):
    _provider_server.reset()
    discovery_cache_clear()
    yield _provider_server
    discovery_cache_clear()


@pytest.fixture
def oidc(settings, provider, db):
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_DISCOVERY_URL = provider.discovery_url
    settings.OIDC_OP_ISSUER = ""
    for name in ("AUTHORIZATION", "TOKEN", "USER", "JWKS"):
        setattr(settings, f"OIDC_OP_{name}_ENDPOINT", "")
    settings.OIDC_PROVIDER_NAME = "Fake IdP"
    settings.OIDC_GROUP_ROLES = ()
    settings.OIDC_CREATE_USERS = True
    settings.OIDC_LINK_BY_EMAIL = False
    settings.OIDC_TIMEOUT = 5
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, BACKEND]
    reload_urls()
    yield settings
    settings.OIDC_ENABLED = False
    reload_urls()


def sso(
    client: Client, provider: FakeProvider, *, next_url: str | None = None, ip: str = "10.1.1.1", replay=None
):
    """The whole redirect dance: Vigil → provider (through `requests`) → Vigil's callback. Returns the
    callback's response; `replay` receives the callback URL (to send it again)."""
    start = client.get("/sso/start/", {"next": next_url} if next_url else {}, REMOTE_ADDR=ip)
    assert start.status_code == 302, start
    assert start["Location"].startswith(provider.url("/authorize?")), start["Location"]
    answer = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert (back.netloc, back.path) == ("testserver", "/sso/callback/"), back
    if replay is not None:
        replay.append(back.path + "?" + back.query)
    return client.get(back.path + "?" + back.query, REMOTE_ADDR=ip)


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")
