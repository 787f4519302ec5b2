"""The delivery channels' API: notifications, notification preferences, webhooks and their deliveries."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.notifications.models import Notification, WebhookSubscription
from apps.notifications.preferences import KNOWN_KINDS
from tests.factories import TenantFactory, UserFactory


def _notification(user, tenant, *, minutes_ago=0, **fields):
    notification = Notification.unscoped.create(
        tenant=tenant, user=user, kind="obligation.due_soon", subject=f"Due soon ({minutes_ago})", **fields
    )
    Notification.unscoped.filter(pk=notification.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return notification


# --------------------------------------------------------------------------------------------------
# In-app notifications
# --------------------------------------------------------------------------------------------------


def test_a_person_lists_their_own_notifications_newest_first(db, make_member, api_client_for, tenant):
    me = make_member("handler", tenant)
    colleague = make_member("handler", tenant)
    old = _notification(me, tenant, minutes_ago=10)
    new = _notification(me, tenant, minutes_ago=1)
    _notification(colleague, tenant)

    response = api_client_for(me).get("/api/v1/notifications/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert [row["id"] for row in body["results"]] == [str(new.pk), str(old.pk)]
    assert {"next", "previous"} <= set(body)
    assert body["results"][0]["read"] is False


def test_unread_filter_and_mark_read(db, make_member, api_client_for, tenant):
    me = make_member("reporter", tenant)
    first = _notification(me, tenant, minutes_ago=5)
    second = _notification(me, tenant, minutes_ago=1)
    client = api_client_for(me)

    response = client.post(f"/api/v1/notifications/{first.pk}/read/")
    assert response.status_code == 200, response.json()
    assert response.json()["read"] is True
    read_at = response.json()["read_at"]
    again = client.post(f"/api/v1/notifications/{first.pk}/read/")
    assert again.json()["read_at"] == read_at  # idempotent: the first read time stays

    unread = client.get("/api/v1/notifications/", {"unread": "true"}).json()["results"]
    assert [row["id"] for row in unread] == [str(second.pk)]
    read = client.get("/api/v1/notifications/", {"unread": "false"}).json()["results"]
    assert [row["id"] for row in read] == [str(first.pk)]


@pytest.mark.parametrize("where", ["same_tenant", "other_tenant"])
def test_another_persons_notification_is_404(where, db, make_member, api_client_for, tenant):
    me = make_member("tenant_admin", tenant)
    other_tenant = tenant if where == "same_tenant" else TenantFactory()
    theirs = _notification(make_member("manager", other_tenant), other_tenant)
    client = api_client_for(me)

    assert client.get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert client.get("/api/v1/notifications/").json()["results"] == []
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_notification_list_query_count_does_not_grow(db, make_member, api_client_for, tenant):
    me = make_member("handler", tenant)
    _notification(me, tenant)
    client = api_client_for(me)
    client.get("/api/v1/notifications/")
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/api/v1/notifications/").json()["results"]) == 1
    for n in range(24):
        _notification(me, tenant, minutes_ago=n + 1, incident=None)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/notifications/").json()["results"]) == 25
    assert len(few) == len(many)


# --------------------------------------------------------------------------------------------------
# Preferences
# --------------------------------------------------------------------------------------------------


def test_preferences_list_every_known_kind_with_defaults(db, make_member, api_client_for, tenant):
    client = api_client_for(make_member("reporter", tenant))
    response = client.get("/api/v1/notification-preferences/")
    assert response.status_code == 200, response.json()
    rows = {row["kind"]: row for row in response.json()["results"]}
    assert set(rows) == set(KNOWN_KINDS)
    assert all(row["in_app"] and row["email"] for row in rows.values())
    assert rows["obligation.overdue"]["critical"] is True
    assert rows["obligation.due_soon"]["critical"] is False


def test_put_and_patch_set_a_kinds_channels(db, make_member, api_client_for, tenant):
    me = make_member("handler", tenant)
    client = api_client_for(me)

    put = client.put(
        "/api/v1/notification-preferences/obligation.due_soon/", {"in_app": True, "email": False}
    )
    assert put.status_code == 200, put.json()
    assert (put.json()["in_app"], put.json()["email"]) == (True, False)
    patch = client.patch("/api/v1/notification-preferences/obligation.due_soon/", {"in_app": False})
    assert (patch.json()["in_app"], patch.json()["email"]) == (False, False)
    incomplete = client.put("/api/v1/notification-preferences/obligation.due_soon/", {"email": True})
    assert incomplete.status_code == 400
    assert "in_app" in incomplete.json()

    rows = {r["kind"]: r for r in client.get("/api/v1/notification-preferences/").json()["results"]}
    assert (rows["obligation.due_soon"]["in_app"], rows["obligation.due_soon"]["email"]) == (False, False)
    # Another person's preferences are untouched.
    other = api_client_for(make_member("handler", tenant))
    theirs = {r["kind"]: r for r in other.get("/api/v1/notification-preferences/").json()["results"]}
    assert theirs["obligation.due_soon"]["email"] is True


def test_unknown_kinds_are_400(db, make_member, api_client_for, tenant):
    client = api_client_for(make_member("handler", tenant))
    response = client.patch("/api/v1/notification-preferences/no.such.kind/", {"email": False})
    assert response.status_code == 400
    assert "kind" in response.json()
    assert client.get("/api/v1/notification-preferences/no.such.kind/").status_code == 400


def test_preference_list_query_count_is_constant(db, make_member, api_client_for, tenant):
    me = make_member("handler", tenant)
    client = api_client_for(me)
    client.get("/api/v1/notification-preferences/")
    with CaptureQueriesContext(connection) as none_set:
        client.get("/api/v1/notification-preferences/")
    for kind in list(KNOWN_KINDS)[:5]:
        client.patch(f"/api/v1/notification-preferences/{kind}/", {"email": False})
    with CaptureQueriesContext(connection) as five_set:
        client.get("/api/v1/notification-preferences/")
    assert len(none_set) == len(five_set)


# --------------------------------------------------------------------------------------------------
# Webhooks
# --------------------------------------------------------------------------------------------------


def test_tenant_admins_create_a_webhook_and_see_the_secret_once(db, make_member, api_client_for, tenant):
    admin = make_member("tenant_admin", tenant)
    client = api_client_for(admin)
    body = {
        "tenant": str(tenant.pk),
        "url": "https://hooks.example.org/vigil",
        "events": ["incident.declared"],
    }

    created = client.post("/api/v1/webhooks/", body, format="json")

    assert created.status_code == 201, created.json()
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    assert len(secret) > 30
    assert WebhookSubscription.unscoped.get(pk=created.json()["id"]).secret == secret
    shown = client.get(f"/api/v1/webhooks/{created.json()['id']}/").json()
    assert "secret" not in shown
    assert shown["active"] is True
    assert all("secret" not in row for row in client.get("/api/v1/webhooks/").json()["results"])
    entry = AuditEntry.unscoped.get(verb="webhook.created")
    assert secret not in str(entry.changes)
    assert secret not in str(entry.data)


def test_a_given_secret_is_used_and_a_patched_one_rotates(db, make_member, api_client_for, tenant):
    client = api_client_for(make_member("tenant_admin", tenant))
    body = {
        "tenant": str(tenant.pk),
        "url": "https://hooks.example.org/vigil",
        "events": ["incident.declared", "evidence.added"],
        "secret": "my-own-long-secret-value",
    }
    created = client.post("/api/v1/webhooks/", body, format="json").json()
    assert created["secret"] == "my-own-long-secret-value"

    patched = client.patch(
        f"/api/v1/webhooks/{created['id']}/",
        {"secret": "a-rotated-secret-value", "active": False},
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    assert "secret" not in patched.json()
    assert patched.json()["active"] is False
    assert WebhookSubscription.unscoped.get(pk=created["id"]).secret == "a-rotated-secret-value"
    entry = AuditEntry.unscoped.get(verb="webhook.updated")
    assert entry.data == {"secret_rotated": True}
    assert "a-rotated-secret-value" not in str(entry.changes)


def _send(client, method: str, path: str, body: dict, content_type: str):
    """`body` encoded as `content_type` would carry it (lists as repeated fields in forms)."""
    send = getattr(client, method)
    if content_type == "form":
        return send(path, urlencode(body, doseq=True), content_type="application/x-www-form-urlencoded")
    return send(path, body, format=content_type)


@pytest.mark.parametrize("content_type", ["json", "form", "multipart"])
def test_a_webhook_has_the_same_defaults_whatever_the_content_type(
    content_type, db, make_member, api_client_for, tenant
):
    client = api_client_for(make_member("tenant_admin", tenant))
    body = {
        "tenant": str(tenant.pk),
        "url": "https://hooks.example.org/vigil",
        "events": ["incident.declared", "evidence.added"],
    }

    created = _send(client, "post", "/api/v1/webhooks/", body, content_type)
    turned_off = _send(client, "post", "/api/v1/webhooks/", {**body, "active": "false"}, content_type)

    assert created.status_code == 201, created.json()
    assert created.json()["active"] is True
    assert created.json()["events"] == ["incident.declared", "evidence.added"]
    assert client.get(f"/api/v1/webhooks/{created.json()['id']}/").json()["active"] is True
    assert turned_off.status_code == 201, turned_off.json()
    assert turned_off.json()["active"] is False


@pytest.mark.parametrize("content_type", ["json", "form", "multipart"])
def test_a_required_boolean_left_out_is_an_error_not_false(
    content_type, db, make_member, api_client_for, tenant
):
    client = api_client_for(make_member("handler", tenant))
    path = "/api/v1/notification-preferences/obligation.due_soon/"

    response = _send(client, "put", path, {"email": "false"}, content_type)

    assert response.status_code == 400, response.json()
    assert response.json() == {"in_app": ["This field is required."]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "http://hooks.example.org/vigil"),  # plain http, not local
        ("url", "https://10.0.0.5/vigil"),  # private network
        ("url", "https://169.254.169.254/latest"),  # cloud metadata
        ("events", ["incident.deleted"]),
        ("events", []),
        ("secret", "short"),
    ],
)
def test_bad_webhooks_are_400(field, value, db, make_member, api_client_for, tenant):
    client = api_client_for(make_member("tenant_admin", tenant))
    body = {
        "tenant": str(tenant.pk),
        "url": "https://hooks.example.org/vigil",
        "events": ["incident.declared"],
    }
    response = client.post("/api/v1/webhooks/", {**body, field: value}, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()


def test_local_http_webhooks_only_where_settings_allow(db, make_member, api_client_for, tenant, settings):
    client = api_client_for(make_member("tenant_admin", tenant))
    body = {"tenant": str(tenant.pk), "url": "http://127.0.0.1:8999/hook", "events": ["incident.declared"]}
    assert client.post("/api/v1/webhooks/", body, format="json").status_code == 201
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = False
    refused = client.post("/api/v1/webhooks/", body, format="json")
    assert refused.status_code == 400
    assert "url" in refused.json()


@pytest.mark.parametrize("role", ["reporter", "handler", "manager", "auditor", "executive"])
def test_only_tenant_admins_manage_webhooks(role, db, make_member, api_client_for, tenant):
    client = api_client_for(make_member(role, tenant))
    body = {
        "tenant": str(tenant.pk),
        "url": "https://hooks.example.org/vigil",
        "events": ["incident.declared"],
    }
    assert client.get("/api/v1/webhooks/").status_code == 403
    assert client.post("/api/v1/webhooks/", body, format="json").status_code == 403


def test_deleting_a_webhook(db, make_member, api_client_for, tenant):
    client = api_client_for(make_member("tenant_admin", tenant))
    body = {
        "tenant": str(tenant.pk),
        "url": "https://hooks.example.org/vigil",
        "events": ["incident.declared"],
    }
    created = client.post("/api/v1/webhooks/", body, format="json").json()
    assert client.delete(f"/api/v1/webhooks/{created['id']}/").status_code == 204
    assert not WebhookSubscription.unscoped.filter(pk=created["id"]).exists()
    assert AuditEntry.unscoped.filter(verb="webhook.deleted").count() == 1


def test_an_outsider_has_no_notifications_and_default_preferences(db, api_client_for):
    outsider = UserFactory()
    client = api_client_for(outsider)
    assert client.get("/api/v1/notifications/").json()["results"] == []
    assert client.get("/api/v1/notification-preferences/").status_code == 200
