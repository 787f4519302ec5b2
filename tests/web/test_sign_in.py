"""Sign-in with lockout: 5 failures of a username from one address within 15 minutes lock the pair for 15
minutes; failures and locks are on the audit trail."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.web.lockout import LOCKOUT_FAILURES
from apps.web.models import SignInThrottle
from tests.web.conftest import PASSWORD


@pytest.fixture
def member(make_member, tenant):
    return make_member("handler", tenant, username="alice")


def sign_in(client, username, password, ip="10.0.0.1"):
    return client.post("/sign-in/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_sign_in_and_out(member):
    client = Client()
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/sign-out/").status_code == 302
    assert client.get("/").status_code == 302


def test_the_sign_in_page_renders(db):
    page = Client().get("/sign-in/")
    assert page.status_code == 200
    assert b'<label for="id_username"' in page.content
    assert b'<label for="id_password"' in page.content


def test_repeated_failures_lock_the_username_from_that_address(member):
    client = Client()
    for _ in range(LOCKOUT_FAILURES - 1):
        response = sign_in(client, "alice", "wrong-password")
        assert response.status_code == 200
        assert b"Please enter a correct" in response.content
    response = sign_in(client, "alice", "wrong-password")
    assert b"Too many failed sign-ins" in response.content

    # Locked: even the right password is refused, without being checked.
    response = sign_in(client, "Alice", PASSWORD)
    assert response.status_code == 200
    assert b"Too many failed sign-ins" in response.content
    assert client.get("/").status_code == 302

    # Another address is not locked out by this one's guessing.
    assert sign_in(Client(), "alice", PASSWORD, ip="10.0.0.2").status_code == 302

    verbs = list(AuditEntry.unscoped.filter(verb__startswith="auth.").values_list("verb", flat=True))
    assert verbs.count("auth.login_failed") == LOCKOUT_FAILURES
    assert verbs.count("auth.locked") == 1
    failed = AuditEntry.unscoped.filter(verb="auth.login_failed").first()
    assert failed.data["username"] == "alice"
    assert failed.ip == "10.0.0.1"


def test_the_lock_ends_after_its_duration(member):
    client = Client()
    for _ in range(LOCKOUT_FAILURES):
        sign_in(client, "alice", "wrong-password")
    SignInThrottle.objects.filter(username="alice").update(locked_until=timezone.now() - timedelta(seconds=1))
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    assert not SignInThrottle.objects.filter(username="alice").exists()  # success forgets the failures


def test_failures_outside_the_window_start_over(member):
    client = Client()
    for _ in range(LOCKOUT_FAILURES - 1):
        sign_in(client, "alice", "wrong-password")
    SignInThrottle.objects.filter(username="alice").update(
        window_started_at=timezone.now() - timedelta(minutes=16)
    )
    response = sign_in(client, "alice", "wrong-password")
    assert b"Too many failed sign-ins" not in response.content
    assert SignInThrottle.objects.get(username="alice").failures == 1


def test_unknown_usernames_lock_too(db):
    """Locking only existing accounts would tell a guesser which names exist."""
    client = Client()
    for _ in range(LOCKOUT_FAILURES):
        response = sign_in(client, "nobody", "whatever-password")
    assert b"Too many failed sign-ins" in response.content
