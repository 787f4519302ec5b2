"""A reminder task killed mid-task (SIGKILL) is redelivered and tells each recipient exactly once.

Its own throwaway Redis (design rule 9) and its own worker, so the shared broker and the session worker
are never touched, and the broker's visibility timeout can be shortened to 2 s (Redis has no real acks:
a message taken by a worker that died is handed out again once it has been invisible that long).

How the task is stopped mid-way, without any test hook in the code: the test holds, in an open
transaction of its own, the ReminderSent row the task will write last. The task locks the obligation,
writes the notifications and outbox e-mails, publishes the events, then blocks on that row's unique index.
The test sees it waiting there (pg_stat_activity) holding its inserts into notifications_notification
(pg_locks), kills the worker with SIGKILL, lets go of the row, and starts a new worker.
"""

import os
import signal
import subprocess
import time
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from apps.catalog.models import Regime, RegimeStep
from apps.notifications.models import Notification, Obligation, ReminderSent
from apps.notifications.reminder_tasks import obligation_remind
from apps.tenancy.roles import RoleId
from config.celery import app as celery_app
from tests.factories import IncidentFactory
from tests.integration.conftest import _test_database_url, start_celery_worker, wait_for
from tests.integration.faults import FaultRun, ThrowawayRedis, record

pytestmark = [pytest.mark.integration, pytest.mark.chaos, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def throwaway_redis(tmp_path):
    redis = ThrowawayRedis(tmp_path)
    redis.start()
    yield redis.url
    redis.stop()


@pytest.fixture
def start_worker(throwaway_redis, tmp_path):
    queue = f"vigil-reminders-{os.getpid()}"
    processes = []

    def start(name: str):
        log = tmp_path / f"{name}.log"
        process = start_celery_worker(
            queue,
            log,
            name=name,
            CELERY_BROKER_URL=throwaway_redis,
            CELERY_VISIBILITY_TIMEOUT="2",
            CELERY_UNACKED_RESTORE_INTERVAL="1",
            CELERY_UNACKED_RESTORE_THROTTLE="1",
        )
        processes.append(process)
        return process, log

    start.queue = queue
    start.broker = throwaway_redis
    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _blocked_backend(dsn: str, blocker_pid: int):
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            """
            SELECT a.pid FROM pg_stat_activity a
            WHERE a.datname = current_database() AND a.pid <> %s AND a.wait_event_type = 'Lock'
              AND a.query ILIKE '%%INSERT INTO "notifications_remindersent"%%'
            """,
            [blocker_pid],
        ).fetchone()
        if row is None:
            return None
        wrote_notifications = conn.execute(
            """
            SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
            WHERE l.pid = %s AND c.relname = 'notifications_notification' AND l.mode = 'RowExclusiveLock'
            """,
            [row[0]],
        ).fetchone()
        return row[0], wrote_notifications is not None


def test_a_reminder_killed_mid_task_is_redelivered_and_told_once(start_worker, tenant, make_member):
    owner = make_member(RoleId.MANAGER, tenant)
    other_manager = make_member(RoleId.MANAGER, tenant)
    # A tenant's own regime: a transactional test cannot count on the shipped ones (an earlier one flushed
    # the tables they were loaded into).
    regime = Regime.unscoped.create(tenant=tenant, code="contract", name="Customer contract")
    step = RegimeStep.unscoped.create(
        tenant=tenant,
        regime=regime,
        code="CONTRACT-1",
        name="Notify the customer",
        notice="contract-notice",
        duration=72,
        unit="calendar_hours",
    )
    started = timezone.now() - timedelta(hours=40)
    incident = IncidentFactory(tenant=tenant, regimes=["contract"], aware_at=started, owner=owner)
    obligation = Obligation.unscoped.create(
        tenant=tenant,
        incident=incident,
        regime="contract",
        step=step,
        notice=step.notice,
        recipient="Customer",
        clock_started_at=started,
        due_at=started + timedelta(hours=72),
        next_reminder_at=started + timedelta(hours=36),
    )
    dedupe_key = f"obligation:{obligation.pk}:50%"
    dsn = _test_database_url()

    first_worker, first_log = start_worker("first")
    blocker = psycopg.connect(dsn)  # a transaction of its own, left open
    blocker.execute(
        "INSERT INTO notifications_remindersent (id, tenant_id, obligation_id, point, sent_at, skipped)"
        " VALUES (%s, %s, %s, '50%%', now(), false)",
        [uuid.uuid4(), tenant.pk, obligation.pk],
    )
    blocker_pid = blocker.info.backend_pid

    with celery_app.connection_for_write(start_worker.broker) as conn:
        obligation_remind.apply_async(
            kwargs={"tenant_id": str(tenant.pk), "pk": str(obligation.pk)},
            queue=start_worker.queue,
            connection=conn,
        )

    task_pid, wrote_notifications = wait_for(lambda: _blocked_backend(dsn, blocker_pid), timeout=30)
    assert wrote_notifications, "the task is past notify(): its notifications are written, not committed"
    assert "obligation_remind" in first_log.read_text()

    first_worker.send_signal(signal.SIGKILL)
    first_worker.wait(timeout=10)
    blocker.rollback()
    blocker.close()
    # The dead worker's server process notices its client is gone at its next read and rolls back; end
    # it now rather than wait for that (what PostgreSQL's client_connection_check_interval would do).
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", [task_pid])
    wait_for(lambda: _gone(dsn, task_pid), timeout=10)
    assert Notification.unscoped.filter(dedupe_key=dedupe_key).count() == 0, "rolled back with the task"
    assert not ReminderSent.unscoped.filter(obligation=obligation).exists()

    _, second_log = start_worker("second")  # nothing is sent again: the broker hands the message back

    wait_for(lambda: ReminderSent.unscoped.filter(obligation=obligation, point="50%").exists(), timeout=60)
    time.sleep(4)  # past another visibility timeout: a second redelivery would show now
    told = list(Notification.unscoped.filter(dedupe_key=dedupe_key).values_list("user_id", flat=True))
    assert sorted(told) == sorted([owner.pk, other_manager.pk]), "exactly once per recipient"
    assert ReminderSent.unscoped.filter(obligation=obligation).count() == 1
    obligation.refresh_from_db()
    assert obligation.next_reminder_at == started + timedelta(hours=54)
    assert "succeeded" in second_log.read_text()
    record(
        FaultRun(
            name="celery worker killed mid-reminder",
            faults=["SIGKILL of the worker inside obligation_remind"],
            rows={"reminders sent": 1, "notifications": len(told)},
            messages_written=2,
            messages_delivered=len(told),
            messages_lost=2 - len(set(told)),
        )
    )
    connection.close()


def _gone(dsn: str, pid: int) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() is None
