"""Delivery channels (issue 5): the transactional outbox, signed webhooks with retries and a delivery log,
e-mail with a stable Message-ID, preferences, and the relay that catches up on due messages."""

import base64
import hashlib
import hmac
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.events import publish
from apps.notifications import delivery
from apps.notifications.choices import OutboxChannel, OutboxStatus
from apps.notifications.delivery import backoff, outbox_deliver, outbox_relay
from apps.notifications.messaging import notify, outbox_enqueue
from apps.notifications.models import Notification, OutboxMessage, WebhookDelivery, WebhookSubscription
from apps.notifications.preferences import preference_set, wants
from apps.notifications.webhooks import sign, webhook_body
from tests.factories import IncidentFactory, TenantFactory, UserFactory
from tests.notifications.receiver import WebhookReceiver

SECRET = "whsec_test-secret-0123456789abcdef"
# The documented mapping: "whsec_" + base64 of the secret's UTF-8 bytes.
STANDARD_SECRET = "whsec_" + base64.b64encode(SECRET.encode()).decode()


@pytest.fixture
def receiver():
    server = WebhookReceiver(secret=SECRET, standard_secret=STANDARD_SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def subscribe(tenant):
    def make(url, events=("report.created",), *, in_tenant=None, active=True, secret=SECRET):
        return WebhookSubscription.unscoped.create(
            tenant=in_tenant or tenant, url=url, events=list(events), secret=secret, active=active
        )

    return make


@pytest.fixture
def file_report(api_client_for, make_member, tenant):
    def make(*, confidential=False, by=None):
        reporter = by or make_member("reporter", tenant)
        body = {
            "tenant": str(tenant.id),
            "kind": "event",
            "title": "Suspicious e-mail asking for my password",
            "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "confidential": confidential,
        }
        response = api_client_for(reporter).post("/api/v1/reports/", body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return make


def _webhook_messages():
    return list(OutboxMessage.objects.filter(channel=OutboxChannel.WEBHOOK).order_by("created_at"))


# --------------------------------------------------------------------------------------------------
# Signature and the payload
# --------------------------------------------------------------------------------------------------


def test_signature_is_an_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"1","type":"incident.declared"}'
    expected = hmac.new(SECRET.encode(), b"1767225600." + body, hashlib.sha256).hexdigest()
    assert sign(secret=SECRET, timestamp=1767225600, body=body) == f"sha256={expected}"
    assert sign(secret=SECRET + "x", timestamp=1767225600, body=body) != f"sha256={expected}"


def test_a_webhook_is_posted_signed_and_logged(db, receiver, subscribe, file_report, tenant):
    subscription = subscribe(receiver.url)
    report = file_report()
    [message] = _webhook_messages()

    outcome = outbox_deliver(message_id=message.pk)

    assert outcome.status == "delivered", outcome
    [request] = receiver.received
    assert (request.reason, request.status) == ("", 200)  # the receiver's own checks passed
    assert request.headers["X-Vigil-Event"] == "report.created"
    assert request.headers["X-Vigil-Delivery"] == str(message.pk)
    assert request.headers["Content-Type"] == "application/json"
    payload = request.json
    assert payload["id"] == str(message.pk)
    assert payload["type"] == "report.created"
    assert payload["tenant"] == str(tenant.pk)
    assert (payload["data"]["object"], payload["data"]["id"]) == ("report", report["id"])
    # Independent verification of the signature, as a receiver computes it.
    mac = hmac.new(
        SECRET.encode(), f"{request.headers['X-Vigil-Timestamp']}.".encode() + request.body, hashlib.sha256
    )
    assert request.headers["X-Vigil-Signature"] == f"sha256={mac.hexdigest()}"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.delivered_at is not None) == ("delivered", 1, True)
    [logged] = WebhookDelivery.unscoped.filter(subscription=subscription)
    assert (logged.attempt, logged.status_code, logged.ok, logged.error) == (1, 200, True, "")
    assert logged.duration_ms >= 0


def test_the_receiver_rejects_a_stale_timestamp_and_vigil_retries(
    db, receiver, subscribe, file_report, monkeypatch
):
    subscribe(receiver.url)
    file_report()
    [message] = _webhook_messages()
    real_now = delivery.unix_now
    monkeypatch.setattr(delivery, "unix_now", lambda: real_now() - 6 * 60)  # a clock 6 minutes behind

    assert outbox_deliver(message_id=message.pk).status == "retry"

    assert [(r.status, r.reason) for r in receiver.received] == [(401, "stale timestamp")]
    monkeypatch.setattr(delivery, "unix_now", real_now)
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert outbox_deliver(message_id=message.pk).status == "delivered"
    assert [r.status for r in receiver.received] == [401, 200]


def test_every_attempt_posts_the_same_body(db, receiver, subscribe, file_report):
    receiver.script = [503]
    subscribe(receiver.url)
    file_report()
    [message] = _webhook_messages()
    outbox_deliver(message_id=message.pk)
    outbox_deliver(message_id=message.pk)
    first, second = receiver.received
    assert first.body == second.body == webhook_body(OutboxMessage.objects.get(pk=message.pk))


def test_a_confidential_report_tells_webhooks_nothing_about_the_reporter(
    db, receiver, subscribe, file_report, make_member, tenant
):
    subscribe(receiver.url)
    reporter = make_member("reporter", tenant, username="whistleblower")
    file_report(confidential=True, by=reporter)
    [message] = _webhook_messages()
    outbox_deliver(message_id=message.pk)

    data = receiver.accepted[0].json["data"]
    assert (data["actor"], data["reporter"], data["confidential"]) == (None, None, True)
    assert "whistleblower" not in receiver.accepted[0].body.decode()
    assert str(reporter.pk) not in receiver.accepted[0].body.decode()


# --------------------------------------------------------------------------------------------------
# Retries, backoff, giving up
# --------------------------------------------------------------------------------------------------


def test_backoff_doubles_from_a_minute_and_is_capped():
    assert [backoff(n).total_seconds() for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_failed_attempt_is_retried_after_its_backoff_and_both_are_in_the_log(
    db, receiver, subscribe, file_report, make_member, api_client_for, tenant
):
    receiver.script = [500, 200]
    subscription = subscribe(receiver.url)
    file_report()
    [message] = _webhook_messages()

    before = timezone.now()
    assert outbox_deliver(message_id=message.pk).status == "retry"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert before + timedelta(seconds=59) < message.next_attempt_at < timezone.now() + timedelta(seconds=61)
    assert "500" in message.last_error

    enqueued = []
    assert outbox_relay(enqueue=enqueued.append, batch_size=10, max_batches=5) == 0  # not due yet
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert outbox_relay(enqueue=enqueued.append, batch_size=10, max_batches=5) == 1
    assert enqueued == [message.pk]
    assert outbox_deliver(message_id=message.pk).status == "delivered"

    assert [r.status for r in receiver.received] == [500, 200]
    admin = make_member("tenant_admin", tenant)
    response = api_client_for(admin).get(f"/api/v1/webhooks/{subscription.pk}/deliveries/")
    assert response.status_code == 200, response.json()
    log = response.json()["results"]
    assert [(row["attempt"], row["status_code"], row["ok"]) for row in log] == [
        (2, 200, True),
        (1, 500, False),
    ]
    assert {row["delivery"] for row in log} == {str(message.pk)}
    assert log[0]["delivery_status"] == "delivered"


def test_an_unreachable_receiver_is_logged_as_an_error(db, subscribe, file_report, unused_tcp_port):
    subscription = subscribe(f"http://127.0.0.1:{unused_tcp_port}/nobody-home")
    file_report()
    [message] = _webhook_messages()
    assert outbox_deliver(message_id=message.pk).status == "retry"
    [logged] = WebhookDelivery.unscoped.filter(subscription=subscription)
    assert (logged.status_code, logged.ok) == (None, False)
    assert "refused" in logged.error.lower()


def test_webhooks_are_given_up_after_24_hours(db, receiver, subscribe, file_report):
    receiver.script = [500]
    subscribe(receiver.url)
    file_report()
    [message] = _webhook_messages()
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(hours=24, minutes=1)
    )
    assert outbox_deliver(message_id=message.pk).status == "dead"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.DEAD, 1)


def test_a_deleted_subscription_gives_its_messages_up(db, receiver, subscribe, file_report):
    subscription = subscribe(receiver.url)
    file_report()
    [message] = _webhook_messages()
    subscription.delete()
    assert outbox_deliver(message_id=message.pk).status == "dead"
    assert receiver.received == []


def test_emails_are_given_up_after_the_configured_attempts(db, settings, monkeypatch):
    settings.OUTBOX_EMAIL_MAX_ATTEMPTS = 2

    def broken(message):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr(delivery, "send_email", broken)
    with transaction.atomic():
        message = outbox_enqueue(channel="email", recipient="someone@example.org", subject="Hi", body="x")
    assert outbox_deliver(message_id=message.pk).status == "retry"
    assert outbox_deliver(message_id=message.pk).status == "dead"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (
        "dead",
        2,
        "ConnectionRefusedError: SMTP down",
    )


# --------------------------------------------------------------------------------------------------
# Exactly once, and written with the change
# --------------------------------------------------------------------------------------------------


def test_a_redelivered_task_never_sends_twice(db, receiver, subscribe, file_report):
    subscribe(receiver.url)
    file_report()
    [message] = _webhook_messages()
    assert outbox_deliver(message_id=message.pk).status == "delivered"
    assert outbox_deliver(message_id=message.pk).status == "skipped"
    assert len(receiver.received) == 1
    assert WebhookDelivery.unscoped.count() == 1


def test_the_outbox_is_written_in_the_changes_transaction(db, subscribe, tenant, superuser):
    subscribe("https://hooks.example.org/a", events=["incident.transitioned"])
    subscribe("https://hooks.example.org/b", events=["incident.transitioned", "evidence.added"])
    subscribe("https://hooks.example.org/off", events=["incident.transitioned"], active=False)
    subscribe("https://hooks.example.org/other-type", events=["review.completed"])
    subscribe(
        "https://hooks.example.org/other-tenant", events=["incident.transitioned"], in_tenant=TenantFactory()
    )
    incident = IncidentFactory(tenant=tenant)

    inside = []

    def change_that_fails():
        with transaction.atomic():
            publish(verb="incident.transitioned", actor=superuser, target=incident, tenant_id=tenant.id)
            inside.extend(_webhook_messages())  # written inside the transaction …
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert len(inside) == 2
    assert _webhook_messages() == []  # … and gone with it

    with transaction.atomic():
        publish(
            verb="incident.transitioned",
            actor=superuser,
            target=incident,
            tenant_id=tenant.id,
            incident_id=incident.pk,
            changes={"status": ["declared", "investigating"]},
        )
    messages = _webhook_messages()
    assert sorted(m.recipient for m in messages) == [
        "https://hooks.example.org/a",
        "https://hooks.example.org/b",
    ]
    data = messages[0].payload["event"]["data"]
    assert (data["object"], data["id"], data["changed"]) == ("incident", str(incident.pk), ["status"])
    assert (data["actor"], data["previous_status"]) == (str(superuser.pk), "declared")


def test_the_relay_finds_due_messages_with_one_indexed_query(db):
    with transaction.atomic():
        due = [outbox_enqueue(channel="email", recipient=f"u{n}@example.org", subject="s") for n in range(5)]
        later = outbox_enqueue(channel="email", recipient="later@example.org", subject="s")
    OutboxMessage.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    delivered = outbox_enqueue(channel="email", recipient="done@example.org", subject="s")
    OutboxMessage.objects.filter(pk=delivered.pk).update(status="delivered")

    enqueued = []
    with CaptureQueriesContext(connection) as queries:
        assert outbox_relay(enqueue=enqueued.append, batch_size=2, max_batches=10) == 5
    assert sorted(enqueued) == sorted(m.pk for m in due)
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 3  # one per batch (2 + 2 + 1), nothing per message
    assert all("FOR UPDATE SKIP LOCKED" in sql for sql in selects)
    # Leased: the next run does not enqueue them again while their tasks wait in the queue.
    assert outbox_relay(enqueue=enqueued.append, batch_size=2, max_batches=10) == 0

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = delivery.due_messages(now=timezone.now(), limit=100).query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "notif_outbox_due" in plan, plan


def test_the_relay_leaves_the_rest_due_when_the_broker_fails(db):
    with transaction.atomic():
        messages = [
            outbox_enqueue(channel="email", recipient=f"u{n}@example.org", subject="s") for n in range(3)
        ]
    sent = []

    def flaky(message_id):
        if len(sent) == 1:
            raise ConnectionError("broker down")
        sent.append(message_id)

    assert outbox_relay(enqueue=flaky, batch_size=10, max_batches=1) == 1
    still_due = OutboxMessage.objects.filter(next_attempt_at__lte=timezone.now()).count()
    assert still_due == 2
    assert len(messages) == 3


# --------------------------------------------------------------------------------------------------
# E-mail and preferences
# --------------------------------------------------------------------------------------------------


def test_email_goes_through_the_backend_with_a_stable_message_id(db, tenant, settings):
    settings.EMAIL_MESSAGE_ID_DOMAIN = "vigil.example.org"
    user = UserFactory(email="ana@example.org")
    with transaction.atomic():
        [notification] = notify(
            tenant_id=tenant.id, users=[user], kind="obligation.due_soon", subject="GDPR notice due in 24 h"
        )
    message = OutboxMessage.objects.get(notification=notification)

    assert outbox_deliver(message_id=message.pk).status == "delivered"
    assert outbox_deliver(message_id=message.pk).status == "skipped"

    [sent] = mail.outbox
    assert sent.to == ["ana@example.org"]
    assert sent.subject == "GDPR notice due in 24 h"
    assert sent.message()["Message-ID"] == f"<outbox.{message.pk}@vigil.example.org>"
    assert sent.extra_headers["X-Vigil-Delivery"] == str(message.pk)


def test_preferences_silence_a_kind_per_channel_but_never_a_critical_one(db, tenant):
    user = UserFactory(email="ana@example.org")
    assert wants(user=user, kind="obligation.due_soon", channel="email")  # no row: on
    with transaction.atomic():
        preference_set(actor=user, user=user, kind="obligation.due_soon", in_app=False, email=False)
        preference_set(actor=user, user=user, kind="training.due_soon", email=False)

    with transaction.atomic():
        silenced = notify(tenant_id=tenant.id, users=[user], kind="obligation.due_soon", subject="Due soon")
        in_app_only = notify(tenant_id=tenant.id, users=[user], kind="training.due_soon", subject="Course")
        critical = notify(
            tenant_id=tenant.id, users=[user], kind="obligation.due_soon", subject="Overdue", critical=True
        )

    assert silenced == []
    assert len(in_app_only) == 1
    assert not OutboxMessage.objects.filter(notification=in_app_only[0]).exists()
    assert len(critical) == 1
    assert OutboxMessage.objects.filter(notification=critical[0]).count() == 1
    assert Notification.unscoped.filter(user=user).count() == 2
