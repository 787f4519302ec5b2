"""A Redis outage loses nothing (design rule 8, issue 5 "Done when"): messages written while a throwaway
broker is down are delivered, exactly once, after it comes back, by a real worker that the relay feeds.

The broker here is our own redis-server on a free port, never the shared one."""

import subprocess
import sys
import time
from collections import Counter
from email import message_from_bytes

import pytest
from django.db import transaction
from django.utils import timezone

from apps.notifications.messaging import notify
from apps.notifications.models import OutboxMessage, WebhookDelivery, WebhookSubscription
from apps.notifications.tasks import outbox_relay
from config.celery import app as celery_app
from tests.factories import MembershipFactory, UserFactory
from tests.integration.conftest import start_celery_worker, wait_for
from tests.integration.faults import FaultRun, ThrowawayRedis, record
from tests.notifications.receiver import WebhookReceiver

pytestmark = [pytest.mark.integration, pytest.mark.chaos, pytest.mark.django_db(transaction=True)]

SECRET = "whsec_outage-test-secret-0123456789"
WRITTEN_DURING_OUTAGE = 4


@pytest.fixture
def throwaway_redis(tmp_path):
    redis = ThrowawayRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def outage_worker(throwaway_redis, tmp_path, monkeypatch):
    """A worker of its own on the throwaway broker (default queue, so the relay's tasks reach it too), and
    this process's Celery app pointed at the same broker for the test."""
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    worker = start_celery_worker(
        "celery",
        tmp_path / "outage-worker.log",
        CELERY_BROKER_URL=throwaway_redis.url,
        WEBHOOK_ALLOW_HTTP_LOCALHOST="1",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
    )
    # Celery reads CELERY_BROKER_URL from the environment before its configuration (the embedded devstack
    # sets it), so both point at the throwaway broker.
    monkeypatch.setenv("CELERY_BROKER_URL", throwaway_redis.url)
    conf = celery_app.conf
    saved = (conf.broker_url, conf.task_default_queue, conf.broker_connection_timeout)
    conf.broker_url, conf.task_default_queue = throwaway_redis.url, "celery"
    conf.broker_connection_timeout = 1
    _reset_producer_pools()
    try:
        yield worker, mail_dir
    finally:
        sys.stdout.write((tmp_path / "outage-worker.log").read_text()[-6000:])  # shown when the test fails
        conf.broker_url, conf.task_default_queue, conf.broker_connection_timeout = saved
        _reset_producer_pools()
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def _reset_producer_pools() -> None:
    # The app caches its connection and producer pools for the first broker URL it used.
    celery_app.amqp._producer_pool = None
    celery_app._pool = None


def _file_report(api_client_for, reporter, tenant, n: int) -> None:
    body = {
        "tenant": str(tenant.id),
        "kind": "event",
        "title": f"Phishing wave {n}",
        "occurred_at": timezone.now().isoformat(),
    }
    response = api_client_for(reporter).post("/api/v1/reports/", body, format="json")
    assert response.status_code == 201, response.content


def _emails(mail_dir) -> list:
    return [message_from_bytes(path.read_bytes()) for path in sorted(mail_dir.glob("*.log"))]


def test_messages_written_while_the_broker_is_down_are_delivered_once_after_it_returns(
    throwaway_redis, outage_worker, tenant, api_client_for
):
    worker, mail_dir = outage_worker
    receiver = WebhookReceiver(secret=SECRET).start()
    try:
        WebhookSubscription.unscoped.create(
            tenant=tenant, url=receiver.url, events=["report.created"], secret=SECRET
        )
        reporter = UserFactory(email="reporter@example.org")
        MembershipFactory(user=reporter, tenant=tenant, role="reporter")
        handler = UserFactory(email="handler@example.org")

        # The pipeline works while the broker is up: enqueued after commit, delivered by the worker.
        _file_report(api_client_for, reporter, tenant, 0)
        wait_for(lambda: len(receiver.accepted) == 1, timeout=60)

        throwaway_redis.stop()
        started = time.monotonic()
        for n in range(1, WRITTEN_DURING_OUTAGE + 1):
            _file_report(api_client_for, reporter, tenant, n)  # 201: the enqueue error is swallowed
            with transaction.atomic():
                notify(tenant_id=tenant.id, users=[handler], kind="obligation.due_soon", subject=f"Due {n}")
        assert time.monotonic() - started < 60, "writes must not hang on a dead broker"
        pending = OutboxMessage.objects.filter(status="pending")
        assert pending.count() == 2 * WRITTEN_DURING_OUTAGE
        assert set(pending.values_list("attempts", flat=True)) == {0}
        assert len(receiver.accepted) == 1

        throwaway_redis.start()  # back, and empty (--save ''): nothing of the outage is in the queue
        outbox_relay.delay()  # what beat does every minute

        wait_for(lambda: not OutboxMessage.objects.filter(status="pending").exists(), timeout=90)
        total_webhooks = WRITTEN_DURING_OUTAGE + 1
        wait_for(lambda: len(receiver.accepted) == total_webhooks, timeout=30)

        # Exactly once: a second relay run and some time change nothing.
        outbox_relay.delay()
        time.sleep(3)
        per_delivery = Counter(r.headers["X-Vigil-Delivery"] for r in receiver.received)
        assert len(per_delivery) == total_webhooks
        assert set(per_delivery.values()) == {1}
        assert all(r.reason == "" for r in receiver.received), [r.reason for r in receiver.received]
        webhooks = OutboxMessage.objects.filter(channel="webhook")
        assert set(webhooks.values_list("status", flat=True)) == {"delivered"}
        assert set(per_delivery) == {str(pk) for pk in webhooks.values_list("pk", flat=True)}
        assert WebhookDelivery.unscoped.count() == total_webhooks

        emails = _emails(mail_dir)
        assert len(emails) == WRITTEN_DURING_OUTAGE
        message_ids = Counter(email["Message-ID"] for email in emails)
        assert set(message_ids.values()) == {1}
        expected_ids = {
            f"<outbox.{pk}@vigil.localhost>"
            for pk in OutboxMessage.objects.filter(channel="email").values_list("pk", flat=True)
        }
        assert set(message_ids) == expected_ids
        assert worker.poll() is None
        written = OutboxMessage.objects.count()
        record(
            FaultRun(
                name="broker stopped while messages are written",
                faults=["redis broker stopped, back empty"],
                messages_written=written,
                messages_delivered=len(per_delivery) + len(message_ids),
                messages_lost=written - len(per_delivery) - len(message_ids),
            )
        )
    finally:
        receiver.stop()
