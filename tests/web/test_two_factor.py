"""Two-factor authentication (issue 8, "Sign-in and sessions"): TOTP with recovery codes, required for
managers, tenant admins, executives, staff and the admin site; wrong codes count toward the sign-in lockout;
the lockout also counts per address across usernames. Real devices, real codes (django_otp.oath.totp)."""

import base64
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import second_factor
from apps.accounts.otp_at_rest import recovery_digest
from apps.accounts.second_factor import IDP_SECOND_FACTOR_SESSION_KEY
from apps.audit.models import AuditEntry
from apps.web.lockout import ADDRESS_FAILURES, LOCKOUT_FAILURES
from apps.web.models import SignInThrottle
from tests.factories import UserFactory
from tests.two_factor import authenticator_for, code_for_key, totp_code
from tests.web.conftest import PASSWORD

ENROL = "/account/two-factor/enrol/"
STEP = "/account/two-factor/"
REQUIRED = "Two-factor authentication required"


def sign_in(client, username, password=PASSWORD, ip="10.0.0.1", next_url=""):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/sign-in/", data, REMOTE_ADDR=ip)


def enter_code(client, code, next_url="/", ip="10.0.0.1"):
    return client.post(STEP, {"code": code, "next": next_url}, REMOTE_ADDR=ip)


def verbs(prefix="auth."):
    return list(AuditEntry.unscoped.filter(verb__startswith=prefix).values_list("verb", flat=True))


def with_recovery_codes(user) -> list[str]:
    authenticator_for(user)
    return second_factor.recovery_codes_regenerate(user=user)


@pytest.fixture
def no_device_brake(settings):
    """django-otp slows a device down after each wrong code (1, 2, 4 ... s: tested on its own below); tests
    that count many wrong codes in a row against the lockout take that brake off."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


# --- who must --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "tenant_admin", "executive"])
def test_required_roles_are_sent_to_enrolment_and_reach_nothing_until_then(make_member, tenant, role):
    user = make_member(role, tenant, username="mia")
    client = Client()

    response = sign_in(client, "mia")

    assert response.status_code == 302
    assert response["Location"] == f"{ENROL}?next=%2F"
    for path in ("/", "/reports/mine/", "/notifications/", "/account/security/", "/admin/"):
        page = client.get(path)
        assert page.status_code == 302, path
        assert page["Location"].startswith(ENROL), (path, page["Location"])
    api = client.get("/api/v1/reports/")
    assert api.status_code == 403
    assert api.json()["detail"].startswith(REQUIRED)
    # ... while an API token is its own credential.
    assert client.get(ENROL).status_code == 200
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@pytest.mark.parametrize("flags", [{"is_staff": True}, {"is_superuser": True, "is_staff": True}])
def test_staff_and_platform_administrators_must_enrol_too(db, flags):
    UserFactory(username="root", **flags)
    client = Client()
    assert sign_in(client, "root")["Location"].startswith(ENROL)
    assert client.get("/")["Location"].startswith(ENROL)
    if flags.get("is_superuser"):
        assert client.get("/admin/")["Location"].startswith(ENROL)


def test_a_reporter_is_not_forced(make_member, tenant):
    make_member("reporter", tenant, username="rita")
    client = Client()

    response = sign_in(client, "rita")

    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/reports/").status_code == 200
    security = client.get("/account/security/")
    assert security.status_code == 200
    assert "Your password alone signs you in." in security.content.decode()
    # The admin site is not theirs: its own login page, not the enrolment.
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_a_single_sign_on_with_mfa_counts_as_the_second_factor(manager):
    """The contract with the OIDC backend: the identity provider asserted MFA, the session says so."""
    client = Client()
    client.force_login(manager)
    assert client.get("/")["Location"].startswith(ENROL)
    session = client.session
    session[IDP_SECOND_FACTOR_SESSION_KEY] = True
    session.save()
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/reports/").status_code == 200


# --- enrolment -------------------------------------------------------------------------------------


def _secret(page) -> bytes:
    shown = re.search(r'data-testid="secret">([A-Z2-7 ]+)<', page.content.decode()).group(1)
    return base64.b32decode(shown.replace(" ", ""))


def test_enrolment_shows_a_qr_code_confirms_with_a_code_and_shows_recovery_codes_once(manager):
    client = Client()
    sign_in(client, manager.username)

    page = client.get(f"{ENROL}?next=/incidents/")
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'<div class="qr"[^>]*><svg [^>]*class="segno"', html), "the QR code is inline SVG"
    assert "<img" not in html  # nothing the CSP would have to allow
    assert "style=" not in html
    key = _secret(page)
    device = TOTPDevice.objects.get(user=manager)
    assert (device.bin_key, device.confirmed) == (key, False)
    assert _secret(client.get(ENROL)) == key  # the same key on every visit until it is confirmed

    wrong = client.post(ENROL, {"code": "000000" if code_for_key(key) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert "That code is not right" in wrong.content.decode()

    done = client.post(ENROL, {"code": code_for_key(key), "next": "/incidents/"})

    assert done.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", done.content.decode())
    assert len(codes) == 10
    assert sorted(recovery_digest(code) for code in codes) == sorted(  # stored as keyed digests only
        StaticToken.objects.filter(device__user=manager).values_list("token", flat=True)
    )
    assert 'href="/incidents/"' in done.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    # The session is verified: everything opens.
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/reports/").status_code == 200
    # Shown once: the enrolment page now leads to the Security page, which shows no codes.
    assert client.get(ENROL)["Location"] == "/account/security/"
    security = client.get("/account/security/").content.decode()
    assert "10 recovery codes left" in security
    assert not any(code in security for code in codes)
    [entry] = AuditEntry.unscoped.filter(verb="auth.2fa_enrolled")
    assert (entry.actor_id, entry.target_id, entry.data["recovery_codes"]) == (
        manager.pk,
        str(manager.pk),
        10,
    )


def test_anyone_may_enrol_and_is_then_asked_for_a_code(make_member, tenant):
    rita = make_member("reporter", tenant, username="rita")
    client = Client()
    sign_in(client, "rita")
    assert 'href="/account/two-factor/enrol/' in client.get("/account/security/").content.decode()
    key = _secret(client.get(ENROL))
    assert client.post(ENROL, {"code": code_for_key(key)}).status_code == 200
    client.post("/sign-out/")

    response = sign_in(client, "rita")

    assert response["Location"] == f"{STEP}?next=%2F"
    assert client.get("/")["Location"].startswith(STEP)
    assert enter_code(client, totp_code(authenticator_for(rita)))["Location"] == "/"
    assert client.get("/").status_code == 200


# --- the code step ---------------------------------------------------------------------------------


def test_a_right_code_opens_the_pages_the_admin_and_the_api(manager):
    device = authenticator_for(manager)
    client = Client()

    response = sign_in(client, manager.username, next_url="/incidents/")

    assert response["Location"] == f"{STEP}?next=%2Fincidents%2F"
    assert client.get("/admin/")["Location"] == f"{STEP}?next=%2Fadmin%2F"
    assert client.get("/api/v1/reports/").status_code == 403
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()

    assert enter_code(client, totp_code(device), next_url="/incidents/")["Location"] == "/incidents/"

    assert client.get("/incidents/").status_code == 200
    assert client.get("/admin/").status_code == 200
    assert client.get("/api/v1/reports/").status_code == 200
    assert client.get(STEP)["Location"] == "/"  # nothing owed any more


def test_the_next_address_stays_on_this_site(manager):
    device = authenticator_for(manager)
    client = Client()
    sign_in(client, manager.username)
    assert enter_code(client, totp_code(device), next_url="https://evil.example.org/")["Location"] == "/"


@pytest.mark.usefixtures("no_device_brake")
def test_wrong_codes_are_refused_audited_and_lock_like_wrong_passwords(manager):
    device = authenticator_for(manager)
    client = Client()
    sign_in(client, manager.username)
    wrong = "000000" if totp_code(device) != "000000" else "111111"

    for attempt in range(1, LOCKOUT_FAILURES):
        response = enter_code(client, wrong)
        assert response.status_code == 200
        assert "That code is not right" in response.content.decode()
        assert SignInThrottle.objects.get(username=manager.username).failures == attempt
    assert verbs().count("auth.2fa_failed") == LOCKOUT_FAILURES - 1
    assert "auth.login_failed" not in verbs()  # a wrong code is recorded as what it is

    locked = enter_code(client, wrong)

    assert locked["Location"] == "/sign-in/"
    assert (
        "Too many failed sign-ins for this account from your address"
        in client.get("/sign-in/").content.decode()
    )
    assert client.get("/")["Location"].startswith("/sign-in/")  # the half-signed-in session is over
    again = sign_in(Client(), manager.username)  # the right password is refused too, while locked
    assert again.status_code == 200
    assert "Too many failed sign-ins" in again.content.decode()
    assert verbs().count("auth.locked") == 1
    failed = AuditEntry.unscoped.filter(verb="auth.2fa_failed").first()
    assert (failed.target_id, failed.ip, failed.data["channel"]) == (str(manager.pk), "10.0.0.1", "web")


def test_django_otp_brakes_a_device_after_wrong_codes(manager):
    device = authenticator_for(manager)
    client = Client()
    sign_in(client, manager.username)
    right = totp_code(device)
    assert enter_code(client, "000000" if right != "000000" else "111111").status_code == 200
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=4)  # as after 4 wrong codes: 8 s

    braked = enter_code(client, right)

    assert "Too many wrong codes: wait" in braked.content.decode()
    assert SignInThrottle.objects.get(username=manager.username).failures == 1  # no code was checked
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(seconds=9)
    )
    assert enter_code(client, right)["Location"] == "/"


def test_a_recovery_code_works_once(manager):
    codes = with_recovery_codes(manager)
    client = Client()
    sign_in(client, manager.username)

    used = enter_code(client, codes[0].upper()[:4] + "-" + codes[0][4:])  # as people type it

    assert used["Location"] == "/"
    assert "Recovery code used: 9 left" in client.get("/").content.decode()
    [entry] = AuditEntry.unscoped.filter(verb="auth.2fa_recovery_code_used")
    assert entry.data["recovery_codes_left"] == 9
    client.post("/sign-out/")

    sign_in(client, manager.username)
    again = enter_code(client, codes[0])

    assert again.status_code == 200
    assert "That code is not right" in again.content.decode()
    assert client.get("/").status_code == 302
    assert StaticToken.objects.filter(device__user=manager).count() == 9


# --- admin site ------------------------------------------------------------------------------------


def test_the_admin_site_requires_the_second_factor_of_every_role_that_uses_it(make_member, tenant):
    """Auditors need no second factor for the pages, but do for the admin site."""
    make_member("auditor", tenant, username="audrey")
    client = Client()
    assert (
        client.post("/admin/login/?next=/admin/", {"username": "audrey", "password": PASSWORD})["Location"]
        == "/admin/"
    )

    assert client.get("/admin/")["Location"] == f"{ENROL}?next=%2Fadmin%2F"
    assert client.get("/admin/tenancy/tenant/")["Location"].startswith(ENROL)
    assert client.get("/").status_code == 200  # the pages do not ask it of an auditor

    key = _secret(client.get(ENROL))
    client.post(ENROL, {"code": code_for_key(key), "next": "/admin/"})
    assert client.get("/admin/").status_code == 200


def test_the_admin_site_refuses_an_unverified_session_on_its_own(manager, rf):
    from django.contrib import admin
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.get("/admin/")
    request.session = SessionStore()
    request.user = manager
    assert not admin.site.has_permission(request)
    request.session[IDP_SECOND_FACTOR_SESSION_KEY] = True
    assert admin.site.has_permission(request)


def test_the_admin_login_goes_through_the_lockout(manager):
    client = Client()
    for _ in range(LOCKOUT_FAILURES):
        response = client.post("/admin/login/", {"username": manager.username, "password": "wrong-password"})
    assert response.status_code == 200
    assert "Too many failed sign-ins for this account from your address" in response.content.decode()
    refused = client.post("/admin/login/", {"username": manager.username, "password": PASSWORD})
    assert "Too many failed sign-ins" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert verbs().count("auth.login_failed") == LOCKOUT_FAILURES


def test_a_correct_password_without_an_admin_role_is_not_a_guess(make_member, tenant):
    make_member("reporter", tenant, username="rita")
    for _ in range(LOCKOUT_FAILURES + 1):
        Client().post("/admin/login/", {"username": "rita", "password": PASSWORD})
    assert not SignInThrottle.objects.filter(username="rita").exists()


# --- per address -----------------------------------------------------------------------------------


def test_failures_from_one_address_across_usernames_lock_the_address(make_member, tenant):
    make_member("reporter", tenant, username="rita")
    for attempt in range(ADDRESS_FAILURES):
        sign_in(Client(), f"sprayed-{attempt}", "Winter2026!", ip="10.9.9.9")

    locked = sign_in(Client(), "rita", ip="10.9.9.9")

    assert locked.status_code == 200
    assert "Too many failed sign-ins from your address. Try again after" in locked.content.decode()
    assert sign_in(Client(), "rita", ip="10.9.9.10")["Location"] == "/"  # another address is fine
    [lock] = AuditEntry.unscoped.filter(verb="auth.locked")
    assert (lock.data["scope"], lock.data["ip"]) == ("address", "10.9.9.9")


def test_a_forged_forwarded_for_header_is_not_a_new_address(db):
    """Without NUM_PROXIES the connection's address counts, whatever X-Forwarded-For says."""
    for attempt in range(ADDRESS_FAILURES):
        Client().post(
            "/sign-in/",
            {"username": f"sprayed-{attempt}", "password": "x"},
            REMOTE_ADDR="10.8.8.8",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}",
        )
    assert SignInThrottle.objects.get(username="", ip="10.8.8.8").locked_until is not None


def test_a_success_does_not_reset_the_address_count(make_member, tenant):
    make_member("reporter", tenant, username="rita")
    for attempt in range(ADDRESS_FAILURES - 1):
        sign_in(Client(), f"sprayed-{attempt}", "x", ip="10.7.7.7")
    assert sign_in(Client(), "rita", ip="10.7.7.7")["Location"] == "/"
    sign_in(Client(), "sprayed-last", "x", ip="10.7.7.7")
    assert "from your address" in sign_in(Client(), "rita", ip="10.7.7.7").content.decode()


# --- the Security page -----------------------------------------------------------------------------


def test_new_recovery_codes_need_a_code_and_replace_the_old_ones(manager, verified_client_for):
    old = with_recovery_codes(manager)
    client = verified_client_for(manager)
    device = authenticator_for(manager)

    refused = client.post("/account/security/recovery-codes/", {"code": "123"}, follow=True)
    assert "That code is not right" in refused.content.decode()

    response = client.post("/account/security/recovery-codes/", {"code": totp_code(device)})

    assert response.status_code == 200
    new = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    assert len(new) == 10
    assert not set(new) & set(old)
    stored = set(StaticToken.objects.filter(device__user=manager).values_list("token", flat=True))
    assert stored == {recovery_digest(code) for code in new}
    assert "auth.2fa_recovery_codes_regenerated" in verbs()


def test_removing_the_device_needs_a_code_and_a_required_user_enrols_again(manager, verified_client_for):
    codes = with_recovery_codes(manager)
    client = verified_client_for(manager)

    response = client.post("/account/security/remove/", {"code": codes[3]})

    assert response["Location"].startswith(ENROL)
    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert not StaticDevice.objects.filter(user=manager).exists()
    assert client.get("/")["Location"].startswith(ENROL)
    [entry] = AuditEntry.unscoped.filter(verb="auth.2fa_removed")
    assert entry.actor_id == manager.pk


def test_a_reporter_removes_their_device_and_signs_in_with_the_password_alone(make_member, tenant):
    rita = make_member("reporter", tenant, username="rita")
    device = authenticator_for(rita)
    client = Client()
    sign_in(client, "rita")
    enter_code(client, totp_code(device))

    assert client.post("/account/security/remove/", {"code": totp_code(device)})["Location"] == (
        "/account/security/"
    )
    client.post("/sign-out/")
    assert sign_in(client, "rita")["Location"] == "/"


# --- an administrator's reset ----------------------------------------------------------------------


def test_reset_2fa_removes_the_device_and_is_audited(manager, superuser):
    with_recovery_codes(manager)

    call_command("reset_2fa", manager.username, by=superuser.username, reason="lost phone, ticket 42")

    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert not StaticDevice.objects.filter(user=manager).exists()
    [entry] = AuditEntry.unscoped.filter(verb="auth.2fa_reset")
    assert (entry.actor_id, entry.target_id, entry.data["reason"]) == (
        superuser.pk,
        str(manager.pk),
        "lost phone, ticket 42",
    )
    client = Client()
    assert sign_in(client, manager.username)["Location"].startswith(ENROL)


def test_only_a_platform_administrator_resets(manager, make_member, tenant):
    authenticator_for(manager)
    other = make_member("tenant_admin", tenant)
    with pytest.raises(CommandError, match="platform administrator"):
        call_command("reset_2fa", manager.username, by=other.username)
    assert TOTPDevice.objects.filter(user=manager).exists()
