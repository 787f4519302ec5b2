"""Security headers with production settings (issue 8): CSP (django-csp), HSTS, secure cookies, frame
denial, referrer policy, no sniffing; and the pages that need inline styles get them through the nonce."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_KEYS = [
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "X_FRAME_OPTIONS",
    "SESSION_COOKIE_HTTPONLY",
]


def _production_settings() -> dict:
    """The values config/settings.py computes for production (DEBUG off, outside pytest)."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{k: getattr(s, k) for k in {PRODUCTION_KEYS!r}}}))"
    )
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "vigil.example.org",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def production():
    return _production_settings()


@pytest.fixture
def production_like(settings, production):
    for key, value in production.items():
        setattr(settings, key, value)
    settings.ALLOWED_HOSTS = ["vigil.example.org"]
    return settings


def test_production_turns_every_protection_on(production):
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SECURE_HSTS_PRELOAD"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True


def _get(path: str, client=None, **extra):
    return (client or Client()).get(path, secure=True, HTTP_HOST="vigil.example.org", **extra)


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.usefixtures("production_like")
@pytest.mark.parametrize("path", ["/sign-in/", "/api/docs/", "/api/schema/", "/healthz"])
def test_every_response_carries_the_security_headers(db, path):
    response = _get(path)
    assert response.status_code == 200, response.content[:300]
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = _csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


@pytest.mark.usefixtures("production_like")
def test_plain_http_is_redirected_to_https(db):
    response = Client().get("/sign-in/", HTTP_HOST="vigil.example.org")
    assert response.status_code == 301
    assert response["Location"] == "https://vigil.example.org/sign-in/"


@pytest.mark.usefixtures("production_like")
def test_session_and_csrf_cookies_are_secure(db):
    UserFactory(username="alice")
    client = Client()
    page = _get("/sign-in/", client)
    assert page.cookies["csrftoken"]["secure"]
    signed_in = client.post(
        "/sign-in/",
        {"username": "alice", "password": "correct-horse-battery"},
        secure=True,
        HTTP_HOST="vigil.example.org",
    )
    assert signed_in.status_code == 302
    session = signed_in.cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]


def _inline_scripts(html: str) -> list[str]:
    return [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]


@pytest.mark.usefixtures("production_like")
def test_swagger_ui_runs_under_the_policy(db):
    """The docs page loads its scripts from same-origin URLs and styles itself with the request's nonce."""
    response = _get("/api/docs/")
    html = response.content.decode()
    assert _inline_scripts(html) == []
    nonce = next(v for v in _csp(response)["style-src"] if v.startswith("'nonce-"))[7:-1]
    assert f'<style nonce="{nonce}">' in html
    for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html):
        assert src.startswith("/"), f"{src} is not same-origin"
        if not src.startswith("/static/"):  # static files are WhiteNoise's (collectstatic), not the tests'
            script = _get(src)
            assert script.status_code == 200, src
            assert script["Content-Type"].startswith("application/javascript")


@pytest.mark.usefixtures("production_like")
def test_web_pages_have_no_inline_script(db):
    html = _get("/sign-in/").content.decode()
    assert _inline_scripts(html) == []
    assert "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers either


@pytest.mark.usefixtures("production_like")
def test_the_printable_iso_report_styles_itself_with_the_nonce(make_member, tenant, api_client_for):
    client = api_client_for(make_member("manager", tenant))
    response = client.get(
        "/api/v1/compliance/iso27001/?format=html", secure=True, HTTP_HOST="vigil.example.org"
    )
    assert response.status_code == 200
    html = response.content.decode()
    nonce = next(v for v in _csp(response)["style-src"] if v.startswith("'nonce-"))[7:-1]
    assert f'<style nonce="{nonce}">' in html
    assert _inline_scripts(html) == []
