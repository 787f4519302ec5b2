"""The token endpoint and two-factor authentication (api-v1.md: `{"username", "password", "otp"}`, `otp` when
the user has two-factor authentication). A wrong code counts toward the endpoint's lockout (per account and
per address, apps/tenancy/signin.py) like a wrong password."""

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from apps.accounts import second_factor
from apps.audit.models import AuditEntry
from apps.tenancy import signin
from apps.tenancy.models import ApiToken
from tests.two_factor import authenticator_for, totp_code

URL = "/api/v1/auth/token/"
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory


@pytest.fixture(autouse=True)
def _rates(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"user": "100000/min", "login": "100000/min", "token": "100000/min"},
    )


@pytest.fixture(autouse=True)
def _no_device_brake(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def token(username, otp=None, ip="10.0.0.1"):
    body = {"username": username, "password": PASSWORD}
    if otp is not None:
        body["otp"] = otp
    return APIClient().post(URL, body, format="json", REMOTE_ADDR=ip)


def test_a_person_without_two_factor_needs_no_code(handler):
    assert token(handler.username).status_code == 201


def test_a_required_role_without_an_authenticator_gets_no_token(manager):
    response = token(manager.username)
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Two-factor authentication required")
    assert not ApiToken.objects.exists()


def test_a_person_with_an_authenticator_sends_a_code(manager):
    device = authenticator_for(manager)

    missing = token(manager.username)
    assert missing.status_code == 400
    assert "otp" in missing.json()

    wrong = token(manager.username, otp="000000" if totp_code(device) != "000000" else "111111")
    assert wrong.status_code == 400
    assert wrong.json() == {"otp": ["Invalid code."]}
    [failed] = AuditEntry.unscoped.filter(verb="auth.2fa_failed")
    assert (failed.target_id, failed.data["channel"]) == (str(manager.pk), "api")

    response = token(manager.username, otp=totp_code(device))
    assert response.status_code == 201
    assert (
        APIClient(HTTP_AUTHORIZATION=f"Token {response.json()['token']}").get("/api/v1/reports/").status_code
        == 200
    )


def test_a_recovery_code_works_once_as_otp(manager):
    authenticator_for(manager)
    codes = second_factor.recovery_codes_regenerate(user=manager)
    assert token(manager.username, otp=codes[0]).status_code == 201
    assert token(manager.username, otp=codes[0]).status_code == 400
    assert AuditEntry.unscoped.filter(verb="auth.2fa_recovery_code_used").count() == 1


def test_wrong_codes_lock_the_account_from_any_address(manager):
    device = authenticator_for(manager)
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    for attempt in range(signin.ACCOUNT_FAILURES):
        assert token(manager.username, otp=wrong, ip=f"10.0.1.{attempt}").status_code == 400

    locked = token(manager.username, otp=totp_code(device), ip="10.0.2.1")

    assert locked.status_code == 429
    assert (
        "Too many failed sign-ins for this account or from this address; try again in"
        in locked.json()["detail"]
    )
    assert int(locked["Retry-After"]) > 0


def test_wrong_codes_count_per_address_too(manager, make_member, tenant):
    device = authenticator_for(manager)
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    for _ in range(signin.ACCOUNT_FAILURES - 1):
        token(manager.username, otp=wrong, ip="10.0.3.3")
    for attempt in range(signin.ADDRESS_FAILURES - signin.ACCOUNT_FAILURES + 1):
        token(f"sprayed-{attempt}", ip="10.0.3.3")
    other = make_member("handler", tenant)
    assert token(other.username, ip="10.0.3.3").status_code == 429
    assert token(other.username, ip="10.0.3.4").status_code == 201
