"""A password change (one's own, or by an administrator), a reset and a deactivation end every API token and
every browser session of the person (accounts.User.credentials_changed_at, ApiToken.is_live); one's own
password changes only with the current one; people list and revoke their own tokens (API and web)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from apps.audit.models import AuditEntry
from apps.tenancy.access import access_for
from apps.tenancy.context import activate
from apps.tenancy.models import ApiToken
from tests.factories import UserFactory
from tests.two_factor import sign_in_verified

User = get_user_model()
OLD_PASSWORD = "correct-horse-battery"  # tests/factories.py
NEW_PASSWORD = "violet-Kestrel-4471"


def user_url(user) -> str:
    return f"/api/v1/users/{user.pk}/"


def signed_in(user) -> Client:
    """A browser (CSRF enforced) signed in as the person, second factor passed."""
    return sign_in_verified(Client(enforce_csrf_checks=True), user)


def csrf_post(client: Client, page: str, data: dict, to: str | None = None):
    """Open the page as a browser does, then post its form with the page's CSRF token."""
    response = client.get(page)
    assert response.status_code == 200, response.status_code
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode()).group(1)
    return client.post(to or page, {**data, "csrfmiddlewaretoken": token})


def token_works(client: APIClient) -> bool:
    status = client.get("/api/v1/tenants/").status_code
    assert status in (200, 401), status
    return status == 200


def session_works(client: Client) -> bool:
    response = client.get("/account/")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


@pytest.fixture
def person(make_member, tenant):
    return make_member("handler", tenant)


@pytest.fixture
def tenant_admin(make_member, tenant):
    return make_member("tenant_admin", tenant)


# --- an administrator changes, resets or deactivates ----------------------------------------------------


def test_a_password_reset_by_a_tenant_admin_ends_every_token_and_session(
    person, tenant_admin, api_client_for
):
    token_a, token_b, browser = api_client_for(person), api_client_for(person), signed_in(person)
    assert token_works(token_a)
    assert token_works(token_b)
    assert session_works(browser)

    response = api_client_for(tenant_admin).patch(user_url(person), {"password": NEW_PASSWORD}, format="json")

    assert response.status_code == 200, response.json()
    assert not token_works(token_a)
    assert not token_works(token_b)
    assert not session_works(browser)
    assert token_works(api_client_for(person))  # a token issued after the change works
    with activate(access_for(UserFactory(is_superuser=True, is_staff=True))):  # the platform's chain
        [entry] = AuditEntry.unscoped.filter(verb="user.updated", target_id=str(person.pk))
    assert entry.data == {"sessions_and_tokens_ended": True}
    assert entry.changes == {"password": ["(set)", "(changed)"]}
    assert Client().login(username=person.username, password=NEW_PASSWORD)


def test_a_deactivation_ends_every_token_and_session_even_once_undone(person, tenant_admin, api_client_for):
    token, browser = api_client_for(person), signed_in(person)
    admin = api_client_for(tenant_admin)

    assert admin.patch(user_url(person), {"is_active": False}, format="json").status_code == 200
    assert admin.patch(user_url(person), {"is_active": True}, format="json").status_code == 200

    assert not token_works(token)
    assert not session_works(browser)


def test_a_password_reset_on_the_admin_site_ends_every_token_and_session(person, superuser, api_client_for):
    token, browser = api_client_for(person), signed_in(person)
    admin = signed_in(superuser)
    page = f"/admin/accounts/user/{person.pk}/password/"

    response = csrf_post(
        admin, page, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    assert not token_works(token)
    assert not session_works(browser)


def test_a_deactivation_saved_by_any_path_ends_every_token(person, api_client_for):
    """The admin's change form, a shell: a plain save of the model."""
    token = api_client_for(person)
    person.refresh_from_db()
    person.is_active = False
    person.save()

    person.is_active = True
    person.save()

    assert not token_works(token)


def test_a_password_change_in_a_shell_ends_every_token(person, api_client_for):
    """`manage.py changepassword` and any other path: the model decides, not the view."""
    token = api_client_for(person)
    person.refresh_from_db()
    person.set_password(NEW_PASSWORD)
    person.save()
    assert not token_works(token)


def test_a_hash_upgrade_at_sign_in_is_no_password_change(person, api_client_for, settings):
    token = api_client_for(person)
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    person.refresh_from_db()
    assert person.check_password(OLD_PASSWORD)  # re-hashed with PBKDF2 and saved
    person.refresh_from_db()
    assert person.password.startswith("pbkdf2_")
    assert token_works(token)


# --- one's own password: the current one first ------------------------------------------------------------


def test_changing_ones_own_password_needs_the_current_one(person, api_client_for):
    me = api_client_for(person)
    other_token = api_client_for(person)

    missing = me.patch(user_url(person), {"password": NEW_PASSWORD}, format="json")
    wrong = me.patch(
        user_url(person), {"password": NEW_PASSWORD, "current_password": "not-it-at-all"}, format="json"
    )

    assert missing.status_code == 400, missing.json()
    assert "current_password" in missing.json()
    assert wrong.status_code == 400, wrong.json()
    assert "current_password" in wrong.json()
    person.refresh_from_db()
    assert person.check_password(OLD_PASSWORD)
    assert token_works(me)
    assert token_works(other_token)

    right = me.patch(
        user_url(person), {"password": NEW_PASSWORD, "current_password": OLD_PASSWORD}, format="json"
    )

    assert right.status_code == 200, right.json()
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    assert not token_works(other_token)
    assert not token_works(me)  # the token that asked ends too: every token of the person


def test_a_new_own_password_on_the_account_page_ends_the_other_sessions_and_tokens(person, api_client_for):
    token, other_browser, browser = api_client_for(person), signed_in(person), signed_in(person)
    form = {"form": "password", "pw-password": NEW_PASSWORD, "pw-password_again": NEW_PASSWORD}

    refused = csrf_post(browser, "/account/", {**form, "pw-current_password": "not-it-at-all"})
    assert refused.status_code == 400
    assert "This is not your current password." in refused.content.decode()
    assert token_works(token)
    assert session_works(other_browser)

    done = csrf_post(browser, "/account/", {**form, "pw-current_password": OLD_PASSWORD})

    assert done.status_code == 302, done.content.decode()[:2000]
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    assert session_works(browser)  # the browser that changed it stays signed in
    assert not session_works(other_browser)
    assert not token_works(token)


def test_the_admin_site_sends_a_platform_admin_to_the_form_with_the_current_password(superuser):
    admin = signed_in(superuser)
    response = admin.get(f"/admin/accounts/user/{superuser.pk}/password/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/password_change/"


# --- one's own tokens ---------------------------------------------------------------------------------


def test_people_list_their_own_live_tokens_without_keys(person, make_member, tenant, api_client_for):
    me = api_client_for(person)
    api_client_for(person)
    revoked = ApiToken.objects.create(user=person, name="old", key_hash="0" * 64, key_prefix="vgl_old")
    ApiToken.objects.filter(pk=revoked.pk).update(revoked_at="2026-01-01T00:00:00Z")
    someone_else = make_member("handler", tenant)
    theirs = api_client_for(someone_else)

    response = me.get("/api/v1/auth/tokens/")

    assert response.status_code == 200, response.json()
    rows = response.json()["results"]
    mine = set(ApiToken.objects.filter(user=person, revoked_at__isnull=True).values_list("pk", flat=True))
    assert {row["id"] for row in rows} == {str(pk) for pk in mine}
    assert sum(row["current"] for row in rows) == 1
    assert all("key_hash" not in row and "key" not in row for row in rows)
    assert token_works(theirs)


def test_people_revoke_their_own_token_and_never_anybody_elses(person, make_member, tenant, api_client_for):
    me, spare = api_client_for(person), api_client_for(person)
    someone_else = make_member("handler", tenant)
    theirs = api_client_for(someone_else)
    their_token = ApiToken.objects.get(user=someone_else)
    spare_id = next(r["id"] for r in me.get("/api/v1/auth/tokens/").json()["results"] if not r["current"])

    assert me.delete(f"/api/v1/auth/tokens/{their_token.pk}/").status_code == 404
    assert token_works(theirs)

    assert me.delete(f"/api/v1/auth/tokens/{spare_id}/").status_code == 204
    assert not token_works(spare)
    assert token_works(me)


def test_the_tokens_page_makes_lists_and_revokes_ones_own_tokens(person, make_member, tenant, api_client_for):
    browser = signed_in(person)
    someone_else = make_member("handler", tenant)
    api_client_for(someone_else)

    made = csrf_post(browser, "/account/tokens/", {"name": "backup script"})

    assert made.status_code == 201
    key = re.search(r'data-testid="token-key"', made.content.decode()) and re.search(
        r'value="(vgl_[^"]+)"', made.content.decode()
    ).group(1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert token_works(client)
    token = ApiToken.objects.get(user=person, name="backup script")
    listing = browser.get("/account/tokens/").content.decode()
    assert "backup script" in listing
    assert key not in listing
    their_token = ApiToken.objects.get(user=someone_else)
    page = "/account/tokens/"

    assert csrf_post(browser, page, {}, to=f"/account/tokens/{their_token.pk}/revoke/").status_code == 404
    revoked = csrf_post(browser, page, {}, to=f"/account/tokens/{token.pk}/revoke/")

    assert revoked.status_code == 302
    assert not token_works(client)


def test_a_stolen_token_cannot_guess_the_current_password(person, api_client_for):
    """Wrong current passwords count against the account's sign-in lock (10 in 15 minutes)."""
    me = api_client_for(person)
    for attempt in range(10):
        body = {"password": NEW_PASSWORD, "current_password": f"guess-number-{attempt}"}
        assert me.patch(user_url(person), body, format="json").status_code == 400

    right = me.patch(
        user_url(person), {"password": NEW_PASSWORD, "current_password": OLD_PASSWORD}, format="json"
    )

    assert right.status_code == 400, right.json()
    assert "Too many wrong passwords" in right.json()["current_password"][0]
    person.refresh_from_db()
    assert person.check_password(OLD_PASSWORD)
    locked_out = APIClient().post(
        "/api/v1/auth/token/", {"username": person.username, "password": OLD_PASSWORD}, format="json"
    )
    assert locked_out.status_code == 429  # the same account lock as the token endpoint's
