"""Brute force on the API's token endpoint and runaway integrations (issue 8, "Sign-in and sessions").

- Failed sign-ins lock the account (from any address) and the address (for any account): 429 with a clear
  message and Retry-After, and the password is not even checked while locked (apps/tenancy/signin.py).
- Every request to the endpoint from one address is rate-limited (LoginRateThrottle, scope `login`).
- Every API token has its own rate (TokenRateThrottle, scope `token`), apart from the user's other tokens.
"""

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from apps.tenancy import signin
from tests.factories import UserFactory

URL = "/api/v1/auth/token/"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def rates(monkeypatch):
    """DRF binds the rates when the throttle classes are defined; tests set their own, small ones."""

    def set_rates(**overrides):
        monkeypatch.setattr(
            SimpleRateThrottle,
            "THROTTLE_RATES",
            {"user": "100000/min", "login": "100000/min", "token": "100000/min", **overrides},
        )

    set_rates()
    return set_rates


def sign_in(username, password, ip="10.0.0.1"):
    return APIClient().post(URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.usefixtures("rates")
def test_a_correct_password_gets_a_token(db):
    UserFactory(username="alice")
    response = sign_in("alice", PASSWORD)
    assert response.status_code == 201
    assert response.json()["token"]


@pytest.mark.usefixtures("rates")
def test_failures_of_one_account_from_many_addresses_lock_the_account(db):
    UserFactory(username="alice")
    for attempt in range(signin.ACCOUNT_FAILURES):
        assert sign_in("alice", f"guess-{attempt}", ip=f"10.0.1.{attempt}").status_code == 400
    locked = sign_in("alice", PASSWORD, ip="10.0.2.1")  # even the right password, from a fresh address
    assert locked.status_code == 429
    assert "Too many failed sign-ins for this account or from this address" in locked.json()["detail"]
    assert 0 < int(locked["Retry-After"]) <= signin.LOCK_DURATION.total_seconds()
    # Another account is not affected.
    UserFactory(username="bob")
    assert sign_in("bob", PASSWORD, ip="10.0.2.1").status_code == 201


@pytest.mark.usefixtures("rates")
def test_failures_from_one_address_across_accounts_lock_the_address(db):
    UserFactory(username="carol")
    for attempt in range(signin.ADDRESS_FAILURES):
        assert sign_in(f"sprayed-{attempt}", "Winter2026!", ip="10.0.3.3").status_code == 400
    locked = sign_in("carol", PASSWORD, ip="10.0.3.3")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.json()["detail"]
    # The account itself is fine from elsewhere.
    assert sign_in("carol", PASSWORD, ip="10.0.4.4").status_code == 201


@pytest.mark.usefixtures("rates")
def test_a_successful_sign_in_forgets_the_accounts_failures(db):
    UserFactory(username="dave")
    for attempt in range(signin.ACCOUNT_FAILURES - 1):
        assert sign_in("dave", f"guess-{attempt}", ip=f"10.0.5.{attempt}").status_code == 400
    assert sign_in("dave", PASSWORD).status_code == 201
    for attempt in range(signin.ACCOUNT_FAILURES - 1):
        assert sign_in("dave", f"again-{attempt}", ip=f"10.0.6.{attempt}").status_code == 400
    assert sign_in("dave", PASSWORD).status_code == 201


def test_every_attempt_from_one_address_is_rate_limited(db, rates):
    rates(login="3/min")
    UserFactory(username="erin")
    for _ in range(3):
        assert sign_in("erin", PASSWORD, ip="10.0.7.7").status_code == 201
    limited = sign_in("erin", PASSWORD, ip="10.0.7.7")
    assert limited.status_code == 429
    assert "Too many sign-in attempts from this address" in limited.json()["detail"]
    assert "Retry-After" in limited
    assert sign_in("erin", PASSWORD, ip="10.0.8.8").status_code == 201


def test_each_token_has_its_own_rate(db, rates, make_member, tenant, api_client_for):
    rates(token="3/min")
    user = make_member("handler", tenant)
    first, second = api_client_for(user), api_client_for(user)
    for _ in range(3):
        assert first.get("/api/v1/incidents/").status_code == 200
    throttled = first.get("/api/v1/incidents/")
    assert throttled.status_code == 429
    assert "Retry-After" in throttled
    assert second.get("/api/v1/incidents/").status_code == 200  # the user's other token is not slowed down


@pytest.mark.usefixtures("rates")
def test_a_forged_x_forwarded_for_does_not_give_a_new_address(db):
    """Without reverse proxies (NUM_PROXIES=0) the header is ignored: a guesser cannot rotate addresses."""
    UserFactory(username="frank")
    for attempt in range(signin.ADDRESS_FAILURES):
        response = APIClient().post(
            URL,
            {"username": f"sprayed-{attempt}", "password": "x"},
            REMOTE_ADDR="10.0.9.9",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}",
        )
        assert response.status_code == 400
    locked = APIClient().post(
        URL,
        {"username": "frank", "password": PASSWORD},
        REMOTE_ADDR="10.0.9.9",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )
    assert locked.status_code == 429
