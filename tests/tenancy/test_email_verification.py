"""A changed e-mail address counts (notifications, single sign-on's linking by e-mail) only once opened from
the link sent to it through the outbox (apps/tenancy/email_verification.py); one's own address changes only
with the current password; addresses are unique among active people, whatever their case."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.notifications.delivery import outbox_deliver
from apps.notifications.models import OutboxMessage
from apps.tenancy.access import access_for
from apps.tenancy.context import activate
from apps.tenancy.sso import sso_sign_in
from tests.factories import UserFactory

User = get_user_model()
PASSWORD = "correct-horse-battery"  # tests/factories.py
NEW = "new.address@example.net"


def user_url(user) -> str:
    return f"/api/v1/users/{user.pk}/"


def delivered_to(address: str) -> list:
    """Deliver the outbox's pending e-mails to the address (as the worker does) and return what arrived."""
    for message_id in OutboxMessage.objects.filter(
        channel="email", recipient=address, status="pending"
    ).values_list("pk", flat=True):
        assert outbox_deliver(message_id=message_id).status == "delivered"
    return [sent for sent in mail.outbox if address in sent.to]


def confirmation_link(address: str) -> str:
    [message] = [m for m in delivered_to(address) if "Confirm" in m.subject]
    return re.search(r"https?://[^/\s]+(/account/email/confirm/\?t=\S+)", message.body).group(1)


def open_link(path: str, client: Client | None = None):
    """What the owner of the address does: open the link, press the button (CSRF enforced)."""
    client = client or Client(enforce_csrf_checks=True)
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    token = re.search(r'name="token" value="([^"]*)"', html).group(1)
    return client.post(path.split("?")[0], {"csrfmiddlewaretoken": csrf, "token": token})


def audited(verb: str, target) -> list[AuditEntry]:
    with activate(access_for(UserFactory(is_superuser=True, is_staff=True))):
        return list(AuditEntry.unscoped.filter(verb=verb, target_id=str(target.pk)).order_by("id"))


@pytest.fixture
def person(make_member, tenant):
    return make_member("handler", tenant, email="person@example.org")


def test_a_new_own_address_counts_only_once_confirmed_from_the_link(
    person, api_client_for, django_capture_on_commit_callbacks
):
    me = api_client_for(person)
    refused = me.patch(user_url(person), {"email": NEW}, format="json")
    assert refused.status_code == 400, refused.json()
    assert "current_password" in refused.json()

    with django_capture_on_commit_callbacks():
        response = me.patch(user_url(person), {"email": NEW, "current_password": PASSWORD}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["email"], response.json()["pending_email"]) == ("person@example.org", NEW)
    person.refresh_from_db()
    assert person.email == "person@example.org"  # notifications still go to the proven address
    [notice] = delivered_to("person@example.org")
    assert "about to change" in notice.subject
    assert NEW not in notice.body
    link = confirmation_link(NEW)

    confirmed = open_link(link)

    assert confirmed.status_code == 200
    assert 'data-testid="email-confirmed"' in confirmed.content.decode()
    person.refresh_from_db()
    assert (person.email, person.pending_email) == (NEW, "")
    [entry] = audited("user.email_verified", person)
    assert entry.changes["email"] == ["person@example.org", NEW]
    [requested] = audited("user.email_change_requested", person)
    assert requested.actor_id == person.pk
    assert open_link(link).status_code == 400  # used once


def test_an_administrator_setting_someone_elses_address_needs_the_confirmation_too(
    person, make_member, tenant, api_client_for
):
    admin = make_member("tenant_admin", tenant)

    response = api_client_for(admin).patch(user_url(person), {"email": NEW}, format="json")

    assert response.status_code == 200, response.json()
    person.refresh_from_db()
    assert (person.email, person.pending_email) == ("person@example.org", NEW)
    open_link(confirmation_link(NEW))
    person.refresh_from_db()
    assert person.email == NEW


def test_the_account_page_changes_the_address_with_the_current_password(person):
    from tests.two_factor import sign_in_verified

    browser = sign_in_verified(Client(enforce_csrf_checks=True), person)
    page = browser.get("/account/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = {"csrfmiddlewaretoken": token, "form": "email", "em-email": NEW}

    wrong = browser.post("/account/", {**form, "em-current_password": "not-it-at-all"})
    done = browser.post("/account/", {**form, "em-current_password": PASSWORD})

    assert wrong.status_code == 400
    assert done.status_code == 302
    person.refresh_from_db()
    assert (person.email, person.pending_email) == ("person@example.org", NEW)


def test_single_sign_on_never_links_by_an_unconfirmed_address(person, api_client_for, settings):
    settings.OIDC_LINK_BY_EMAIL = True
    victim_address = "ada@example.org"
    api_client_for(person).patch(
        user_url(person), {"email": victim_address, "current_password": PASSWORD}, format="json"
    )
    claims = {"sub": "ada-1", "email": victim_address, "email_verified": True, "preferred_username": "ada"}

    with transaction.atomic():
        signed_in = sso_sign_in(issuer="https://idp.example.org", subject="ada-1", claims=claims)

    assert signed_in.user.pk != person.pk
    assert not signed_in.linked_by_email


def test_a_tampered_or_foreign_link_is_refused(person, api_client_for):
    api_client_for(person).patch(
        user_url(person), {"email": NEW, "current_password": PASSWORD}, format="json"
    )
    link = confirmation_link(NEW)

    tampered = open_link(link.replace("?t=", "?t=x"))

    assert tampered.status_code == 400
    assert "not valid any more" in tampered.content.decode()
    person.refresh_from_db()
    assert person.email == "person@example.org"


@pytest.mark.parametrize("address", ["Other@Example.org", "other@example.org"])
def test_an_address_of_another_active_person_is_refused_naming_the_field(
    person, make_member, tenant, api_client_for, address
):
    make_member("reporter", tenant, email="other@example.org")
    admin = make_member("tenant_admin", tenant)

    own = api_client_for(person).patch(
        user_url(person), {"email": address, "current_password": PASSWORD}, format="json"
    )
    created = api_client_for(admin).post(
        "/api/v1/users/",
        {"username": "newcomer", "email": address, "tenant": str(tenant.pk), "role": "reporter"},
        format="json",
    )

    assert own.status_code == 400, own.json()
    assert "email" in own.json()
    assert created.status_code == 400, created.json()
    assert "email" in created.json()
    assert not User.objects.filter(username="newcomer").exists()


def test_the_database_refuses_two_active_people_with_one_address_and_frees_it_on_deactivation(db):
    first = UserFactory(email="shared@example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(email="SHARED@example.org")
    first.is_active = False
    first.save()
    assert UserFactory(email="Shared@example.org").is_active


def test_a_confirmation_is_refused_once_somebody_else_has_the_address(person, api_client_for):
    api_client_for(person).patch(
        user_url(person), {"email": NEW, "current_password": PASSWORD}, format="json"
    )
    link = confirmation_link(NEW)
    UserFactory(email=NEW.upper())

    refused = open_link(link)

    assert refused.status_code == 400
    assert "Another active person already uses this e-mail address." in refused.content.decode()
    person.refresh_from_db()
    assert person.email == "person@example.org"


def test_reactivating_someone_whose_address_was_taken_meanwhile_is_a_clear_400(
    make_member, tenant, api_client_for
):
    admin = make_member("tenant_admin", tenant)
    left = make_member("reporter", tenant, email="desk@example.org")
    client = api_client_for(admin)
    assert client.patch(user_url(left), {"is_active": False}, format="json").status_code == 200
    make_member("reporter", tenant, email="Desk@example.org")

    response = client.patch(user_url(left), {"is_active": True}, format="json")

    assert response.status_code == 400, response.json()
    assert "email" in response.json()


def test_on_the_admin_site_ones_own_address_is_read_only_and_anothers_waits_for_the_link(person, superuser):
    from tests.two_factor import sign_in_verified

    browser = sign_in_verified(Client(), superuser)
    own = browser.get(f"/admin/accounts/user/{superuser.pk}/change/")
    assert own.status_code == 200
    assert "email" not in own.context["adminform"].form.fields

    joined = timezone.localtime(person.date_joined)
    data = {
        "username": person.username,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": NEW,
        "is_active": "on",
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "_save": "Save",
    }
    response = browser.post(f"/admin/accounts/user/{person.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    person.refresh_from_db()
    assert (person.email, person.pending_email) == ("person@example.org", NEW)
    assert confirmation_link(NEW)


def test_on_the_admin_site_another_active_persons_address_is_a_field_error(
    person, superuser, make_member, tenant
):
    from tests.two_factor import sign_in_verified

    make_member("reporter", tenant, email="Taken@example.org")
    joined = timezone.localtime(person.date_joined)
    data = {
        "username": person.username,
        "email": "taken@example.org",
        "is_active": "on",
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "_save": "Save",
    }
    response = sign_in_verified(Client(), superuser).post(f"/admin/accounts/user/{person.pk}/change/", data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"] == [
        "Another active person already uses this e-mail address."
    ]
    person.refresh_from_db()
    assert (person.email, person.pending_email) == ("person@example.org", "")


def test_the_account_page_says_so_when_the_address_is_already_yours(person):
    from tests.two_factor import sign_in_verified

    browser = sign_in_verified(Client(), person)
    form = {"form": "email", "em-email": "Person@example.org", "em-current_password": PASSWORD}

    page = browser.post("/account/", form, follow=True).content.decode()

    assert "That is already your e-mail address." in page
    assert "We sent a confirmation link" not in page
