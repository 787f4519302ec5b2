"""Redis stopped while reports and state changes are written through the real API (issue 8).

gunicorn (production settings, DEBUG off) and a Celery worker run against the test database and a throwaway
Redis that is their cache *and* their broker. Client threads write through the API: a report, its assessment
(which opens an incident; every fourth one at P1, which e-mails the manager), and two state changes of the
incident, while webhooks are subscribed to each of those events. Redis is stopped once a third of the writes
are done and started again (empty) at two thirds.

Then: every answer was a 2xx or a clean JSON 4xx/503 (no 500, no HTML), the rows equal the successful
answers, and once the outbox relay has run (what beat does every minute) every outbox message, those written
while Redis was down included, has reached the webhook receiver or the mailbox exactly once.

`make test`: 200 writes; `make chaos`: 1,000.
"""

import re
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from email import message_from_bytes

import pytest
from django.db import transaction
from django.utils import timezone

from apps.assessment.models import Assessment
from apps.notifications.models import OutboxMessage, WebhookSubscription
from apps.notifications.tasks import outbox_relay
from apps.reporting.models import Report
from apps.response.models import Incident, TimelineEntry
from apps.tenancy.services import token_create
from config.celery import app as celery_app
from tests.factories import MembershipFactory, UserFactory
from tests.integration.conftest import _test_database_url, start_celery_worker, wait_for
from tests.integration.faults import (
    FaultRun,
    Gunicorn,
    Tally,
    ThrowawayRedis,
    app_env,
    bounded_or_chaos,
    call,
    is_clean_failure,
    join_all,
    record,
    run_threads,
)
from tests.notifications.receiver import WebhookReceiver

pytestmark = [pytest.mark.integration, pytest.mark.chaos, pytest.mark.django_db(transaction=True)]

SECRET = "whsec_redis-outage-secret-0123456789"
WRITES = bounded_or_chaos(200, 1000)
CLIENTS = 8
EVENTS = ["report.created", "incident.declared", "incident.transitioned"]


@pytest.fixture
def redis(tmp_path):
    server = ThrowawayRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver():
    receiver = WebhookReceiver(secret=SECRET).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def worker(transactional_db, redis, tmp_path):
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log = tmp_path / "worker.log"
    process = start_celery_worker(
        "celery",
        log,
        REDIS_URL=redis.url,
        CELERY_BROKER_URL=redis.url,
        WEBHOOK_ALLOW_HTTP_LOCALHOST="1",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
    )
    yield process, mail_dir
    process.terminate()
    try:
        process.wait(timeout=20)
    except Exception:
        process.kill()


@pytest.fixture
def server(transactional_db, redis, tmp_path):
    gunicorn = Gunicorn(
        app_env(database_url=_test_database_url(), redis_url=redis.url, CONN_MAX_AGE="60"),
        tmp_path / "gunicorn.log",
    )
    yield gunicorn
    gunicorn.stop()


def _tokens(user, count: int) -> list[str]:
    keys = []
    for n in range(count):
        with transaction.atomic():
            _, key = token_create(actor=user, user=user, name=f"client {n}")
        keys.append(key)
    return keys


def _mailed_message_ids(mail_dir) -> Counter:
    """Message-IDs of every e-mail in the file backend's files (several messages may share one file)."""
    ids = Counter()
    for path in sorted(mail_dir.glob("*.log")):
        for chunk in re.split(rb"\n-{79}\n", path.read_bytes()):
            if chunk.strip():
                ids[message_from_bytes(chunk.strip() + b"\n")["Message-ID"]] += 1
    return ids


def _relay(redis_url: str) -> None:
    """What beat does every minute: enqueue every due pending outbox message."""
    with celery_app.connection_for_write(redis_url) as conn:
        outbox_relay.apply_async(connection=conn, queue="celery")


def test_redis_stopped_while_writing_loses_nothing(tenant, phishing, redis, receiver, worker, server):
    started = time.monotonic()
    _, mail_dir = worker
    WebhookSubscription.unscoped.create(tenant=tenant, url=receiver.url, events=EVENTS, secret=SECRET)
    reporter = UserFactory(email="reporter@example.org")
    MembershipFactory(user=reporter, tenant=tenant, role="reporter")
    manager = UserFactory(email="manager@example.org")
    MembershipFactory(user=manager, tenant=tenant, role="manager")
    reporter_keys, manager_keys = _tokens(reporter, CLIENTS), _tokens(manager, CLIENTS)

    tally = Tally()
    progress = {"writes": 0, "units": 0}
    lock = threading.Lock()
    units = WRITES // 4
    outage = {}

    def write(kind: str, reply) -> bool:
        tally.add(kind, reply)
        with lock:
            progress["writes"] += 1
        if 200 <= reply.status < 300:
            tally.count(f"{kind} ok")
            return True
        tally.count("clean failures" if is_clean_failure(reply) else "errors")
        return False

    def client(i: int) -> None:
        post = lambda path, body, key: call(server.base, "POST", path, token=key, body=body)  # noqa: E731
        while True:
            with lock:
                if progress["units"] >= units:
                    return
                progress["units"] += 1
                n = progress["units"]
            severe = n % 4 == 0  # P1: escalated, the manager is e-mailed
            body = {
                "tenant": str(tenant.id),
                "kind": "event",
                "title": f"Redis outage {n}",
                "occurred_at": datetime.now(UTC).isoformat(),
            }
            reply = post("/api/v1/reports/", body, reporter_keys[i])
            if not write("report", reply):
                continue
            assessment = {
                "decision": "incident",
                "rationale": "Phishing confirmed",
                "category": str(phishing.id),
                "impact": "critical" if severe else "low",
                "urgency": "critical" if severe else "low",
            }
            reply = post(f"/api/v1/reports/{reply.json['id']}/assessment/", assessment, manager_keys[i])
            if not write("assessment", reply):
                continue
            incident = f"/api/v1/incidents/{reply.json['incident']}/transition/"
            if not write("transition", post(incident, {"to": "investigating"}, manager_keys[i])):
                continue
            write("transition", post(incident, {"to": "closed", "note": "False alarm"}, manager_keys[i]))

    threads = run_threads(CLIENTS, client)

    def reached(writes: int):
        return lambda: progress["writes"] >= writes or not any(t.is_alive() for t in threads)

    try:
        wait_for(reached(WRITES // 3), timeout=300, interval=0.05)
        outage["from"], outage["stopped"] = timezone.now(), time.monotonic()
        redis.stop()
        readiness = call(server.base, "GET", "/readyz", timeout=30)
        wait_for(reached(2 * WRITES // 3), timeout=600, interval=0.1)
        redis.start()  # empty: whatever was queued before the outage is gone from the broker
        outage["to"], outage["seconds"] = timezone.now(), time.monotonic() - outage["stopped"]
    finally:
        join_all(threads, timeout=600)
    writes_done = time.monotonic()
    assert readiness.status == 503, readiness.describe()
    assert readiness.json["checks"]["broker"] is False, readiness.describe()

    # Every answer was a success or a clean failure, and the rows are the successes.
    assert tally.counts["errors"] == 0, tally.problems
    assert progress["writes"] == tally.requests
    assert Report.unscoped.filter(tenant=tenant).count() == tally.counts["report ok"]
    assert Assessment.unscoped.filter(tenant=tenant).count() == tally.counts["assessment ok"]
    assert Incident.unscoped.filter(tenant=tenant).count() == tally.counts["assessment ok"]
    transitioned = TimelineEntry.unscoped.filter(tenant=tenant, verb="incident.transitioned").count()
    assert transitioned == tally.counts["transition ok"]

    # The broker is back: the relay (beat's job) enqueues what was written meanwhile; the worker delivers.
    messages = OutboxMessage.objects.all()
    during = messages.filter(created_at__gte=outage["from"], created_at__lte=outage["to"]).count()
    assert during > 0, "nothing was written while Redis was down"

    def all_delivered() -> bool:
        if not messages.filter(status="pending").exists():
            return True
        _relay(redis.url)
        return False

    wait_for(all_delivered, timeout=300, interval=3)
    webhook_ids = {str(pk) for pk in messages.filter(channel="webhook").values_list("pk", flat=True)}
    email_pks = messages.filter(channel="email").values_list("pk", flat=True)
    email_ids = {f"<outbox.{pk}@vigil.localhost>" for pk in email_pks}
    wait_for(lambda: len(receiver.accepted) >= len(webhook_ids), timeout=60)

    # Exactly once: another relay run and a few seconds change nothing.
    _relay(redis.url)
    time.sleep(3)
    per_delivery = Counter(r.headers["X-Vigil-Delivery"] for r in receiver.accepted)
    mailed = _mailed_message_ids(mail_dir)
    assert all(r.reason == "" for r in receiver.received), [r.reason for r in receiver.received][:5]
    assert set(per_delivery) == webhook_ids
    assert set(per_delivery.values()) == {1}, per_delivery.most_common(3)
    assert set(mailed) == email_ids
    assert not email_ids or set(mailed.values()) == {1}, mailed.most_common(3)
    assert set(messages.values_list("status", flat=True)) == {"delivered"}
    successes = tally.counts["report ok"] + tally.counts["assessment ok"] + tally.counts["transition ok"]
    assert len(webhook_ids) == successes, "one webhook per successful write"
    assert email_ids, "P1 incidents e-mail the manager"

    written, delivered = messages.count(), time.monotonic()
    delivered_once = sum(n == 1 for n in per_delivery.values()) + sum(n == 1 for n in mailed.values())
    record(
        FaultRun(
            name="redis stopped during API writes",
            faults=[f"redis down {outage['seconds']:.0f} s (cache and broker), back empty"],
            requests=tally.requests,
            statuses=dict(tally.statuses),
            rows={
                "reports": tally.counts["report ok"],
                "assessments": tally.counts["assessment ok"],
                "transitions": tally.counts["transition ok"],
                "outbox written while down": during,
            },
            messages_written=written,
            messages_delivered=delivered_once,
            messages_lost=written - delivered_once,
            errors=tally.counts["errors"],
            seconds=time.monotonic() - started,
            notes=f"writes {writes_done - started:.0f} s, then delivery {delivered - writes_done:.0f} s",
        )
    )
    assert written == delivered_once
