"""`Idempotency-Key` on POST: the same key from the same caller replays the first response and creates
nothing new."""

import pytest
from django.contrib.auth import get_user_model

from apps.audit.models import AuditEntry
from apps.core.models import IdempotencyRecord
from apps.tenancy.models import Membership
from tests.factories import TenantFactory

User = get_user_model()
MEMBERSHIPS = "/api/v1/memberships/"
USERS = "/api/v1/users/"


@pytest.fixture
def admin(tenant, make_member):
    return make_member("tenant_admin", tenant)


@pytest.fixture
def client(admin, api_client_for):
    return api_client_for(admin)


@pytest.fixture
def newcomer(tenant, make_member):
    return make_member("reporter", TenantFactory(parent=tenant))


def post(client, url, body, key):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_repeated_post_replays_the_first_response_and_creates_nothing(client, tenant, newcomer):
    body = {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": "handler"}

    first = post(client, MEMBERSHIPS, body, "sync-42")
    second = post(client, MEMBERSHIPS, body, "sync-42")

    assert first.status_code == 201, first.json()
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Membership.unscoped.filter(user=newcomer, tenant=tenant).count() == 1
    assert AuditEntry.unscoped.filter(verb="membership.created", target_id=first.json()["id"]).count() == 1


def test_replay_of_a_user_creation(client, tenant):
    body = {"username": "ines", "tenant": str(tenant.pk), "role": "reporter"}

    first = post(client, USERS, body, "hr-ines")
    second = post(client, USERS, body, "hr-ines")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert User.objects.filter(username="ines").count() == 1
    assert Membership.unscoped.filter(user__username="ines").count() == 1


def test_without_a_key_a_repeat_is_a_new_request(client, tenant, newcomer):
    body = {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": "handler"}

    first = client.post(MEMBERSHIPS, body, format="json")
    second = client.post(MEMBERSHIPS, body, format="json")

    assert first.status_code == 201
    assert second.status_code == 400  # the duplicate rule answers: nothing was replayed
    assert "user" in second.json()
    assert "Idempotent-Replayed" not in second


def test_the_same_key_with_a_different_body_is_400(client, tenant, newcomer):
    first = post(
        client, MEMBERSHIPS, {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": "handler"}, "k1"
    )
    second = post(
        client, MEMBERSHIPS, {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": "manager"}, "k1"
    )

    assert first.status_code == 201
    assert second.status_code == 400
    assert "Idempotency-Key" in second.json()
    assert Membership.unscoped.get(user=newcomer, tenant=tenant).role == "handler"


def test_the_same_key_on_another_endpoint_is_400(client, tenant, newcomer):
    first = post(
        client, MEMBERSHIPS, {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": "handler"}, "k2"
    )
    second = post(client, USERS, {"username": "jo", "tenant": str(tenant.pk)}, "k2")

    assert first.status_code == 201
    assert second.status_code == 400
    assert "Idempotency-Key" in second.json()
    assert not User.objects.filter(username="jo").exists()


def test_keys_are_per_caller(client, tenant, make_member, api_client_for):
    other_client = api_client_for(make_member("tenant_admin", tenant))

    mine = post(client, USERS, {"username": "kai", "tenant": str(tenant.pk)}, "shared-key")
    theirs = post(other_client, USERS, {"username": "lou", "tenant": str(tenant.pk)}, "shared-key")

    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert theirs.json()["username"] == "lou"
    assert User.objects.filter(username__in=["kai", "lou"]).count() == 2
    assert IdempotencyRecord.objects.filter(key="shared-key").count() == 2


def test_another_callers_identical_request_is_not_a_replay(client, tenant, make_member, api_client_for):
    other_client = api_client_for(make_member("tenant_admin", tenant))
    body = {"username": "max", "tenant": str(tenant.pk)}

    assert post(client, USERS, body, "same").status_code == 201
    theirs = post(other_client, USERS, body, "same")

    # Not the first caller's stored 201: the second caller's own request runs and meets the taken username.
    assert theirs.status_code == 400
    assert "username" in theirs.json()
    assert "Idempotent-Replayed" not in theirs


def test_a_failed_attempt_is_not_stored_and_a_corrected_retry_succeeds(client, tenant, newcomer):
    failed = post(
        client, MEMBERSHIPS, {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": "boss"}, "retry-1"
    )
    assert failed.status_code == 400
    assert "role" in failed.json()
    assert not IdempotencyRecord.objects.filter(key="retry-1").exists()

    corrected = post(
        client,
        MEMBERSHIPS,
        {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": "handler"},
        "retry-1",
    )

    assert corrected.status_code == 201, corrected.json()
    assert "Idempotent-Replayed" not in corrected
    assert Membership.unscoped.get(user=newcomer, tenant=tenant).role == "handler"


def test_a_refused_attempt_is_not_stored(client, tenant, newcomer):
    body = {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": "executive"}

    first = post(client, MEMBERSHIPS, body, "exec")
    second = post(client, MEMBERSHIPS, body, "exec")

    assert first.status_code == second.status_code == 403
    assert "Idempotent-Replayed" not in second
    assert not IdempotencyRecord.objects.filter(key="exec").exists()


@pytest.mark.parametrize("key", ["k" * 256, ""], ids=["too-long", "empty"])
def test_invalid_keys_are_400(client, tenant, newcomer, key):
    response = post(
        client, MEMBERSHIPS, {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": "handler"}, key
    )

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Membership.unscoped.filter(user=newcomer, tenant=tenant).exists()


def test_a_key_of_255_characters_is_accepted(client, tenant, newcomer):
    body = {"user": str(newcomer.pk), "tenant": str(tenant.pk), "role": "handler"}

    first = post(client, MEMBERSHIPS, body, "k" * 255)
    second = post(client, MEMBERSHIPS, body, "k" * 255)

    assert first.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
