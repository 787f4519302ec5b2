"""PostgreSQL restarted under load (issue 8).

A throwaway PostgreSQL cluster (free port, temporary directory), migrated with `manage.py migrate`, behind
gunicorn started with the production settings path (DATABASE_URL, DEBUG off) and a throwaway Redis. Client
threads file reports, each with its own Idempotency-Key, retrying a 503 with the same key as a well-behaved
client does. The cluster is stopped (`pg_ctl stop -m fast`: open transactions are cut) and started again.

While it is down: `/readyz` answers 503, API requests answer 503 JSON
`{"detail": "Service temporarily unavailable", "code": "database_unavailable"}` with Retry-After (never a
500, never an HTML page), and a web page answers a plain 503 page. Once it is back the same gunicorn
workers serve again (no restart), and the rows are exactly the reports that were answered 201: no request
half-wrote (each runs in one transaction) and none was written twice.

`make test`: one restart; `make chaos`: three, each 10 s down, for CHAOS_SECONDS of load at least.
"""

import json
import sys
import threading
import time
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from tests.integration.conftest import wait_for
from tests.integration.faults import (
    CHAOS_SECONDS,
    FaultRun,
    Gunicorn,
    Tally,
    ThrowawayPostgres,
    ThrowawayRedis,
    app_env,
    bounded_or_chaos,
    call,
    is_clean_failure,
    join_all,
    manage,
    record,
    run_threads,
)

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

CLIENTS = 6
RESTARTS = bounded_or_chaos(1, 3)
DOWN_SECONDS = bounded_or_chaos(2, 10)
MIN_SECONDS = bounded_or_chaos(0, CHAOS_SECONDS)  # of load, in all
SUCCESSES_BETWEEN = 30  # 201s before the first restart and after each recovery

# Run by `manage.py shell` against the throwaway database: what an operator does for a new department
# (create_service_account), for one reporter account per client.
SETUP = """
import json
from django.contrib.auth import get_user_model
from django.db import transaction
from apps.tenancy.access import access_for
from apps.tenancy.context import activate
from apps.tenancy.services import service_account_create, tenant_create

admin = get_user_model().objects.create_superuser(username="chaos-admin", email="admin@example.org")
access = access_for(admin)
with activate(access), transaction.atomic():
    tenant = tenant_create(actor=admin, access=access, name="Chaos", slug="chaos", reference_prefix="CHS")
access = access_for(admin)
keys = []
with activate(access), transaction.atomic():
    for n in range(CLIENTS):
        _, _, key = service_account_create(
            actor=admin, access=access, tenant=tenant, role="reporter", name=f"client{n}"
        )
        keys.append(key)
# A signed-in browser: sessions live in Redis, the person behind one in the database.
from django.test import Client
browser = Client()
browser.force_login(admin)
session = browser.cookies["sessionid"].value
print("CHAOS-SETUP " + json.dumps({"tenant": str(tenant.id), "keys": keys, "session": session}))
"""


@pytest.fixture
def postgres():
    cluster = ThrowawayPostgres()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def stack(postgres, tmp_path):
    """The throwaway database migrated and provisioned, and gunicorn serving it."""
    redis = ThrowawayRedis(tmp_path)
    redis.start()
    try:
        env = app_env(database_url=postgres.create_database("vigil"), redis_url=redis.url)
        manage(env, "migrate", "--noinput", "-v0")
        out = manage(env, "shell", "-c", SETUP.replace("CLIENTS", str(CLIENTS)))
        setup = json.loads(next(line for line in out.splitlines() if line.startswith("CHAOS-SETUP "))[12:])
        server = Gunicorn(env, tmp_path / "gunicorn.log")
        try:
            yield server, setup
        finally:
            server.stop()
            sys.stdout.write(server.tail(4000))  # shown when the test fails
    finally:
        redis.stop()


def _count(postgres, sql: str) -> int:
    with psycopg.connect(postgres.url("vigil"), autocommit=True) as conn:
        return conn.execute(sql).fetchone()[0]


def test_postgres_restarted_under_load(postgres, stack):
    server, setup = stack
    started = time.monotonic()
    tally = Tally()
    lock = threading.Lock()
    succeeded: list[str] = []  # titles answered 201
    stop = threading.Event()
    unavailable = []  # 503 answers, for their shape

    def client(i: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            title = f"restart {i}-{n}"
            key = str(uuid.uuid4())
            deadline = time.monotonic() + 300
            while True:  # one report: retried with the same Idempotency-Key until it is answered 201
                body = {
                    "tenant": setup["tenant"],
                    "kind": "event",
                    "title": title,
                    "occurred_at": datetime.now(UTC).isoformat(),
                }
                reply = call(
                    server.base,
                    "POST",
                    "/api/v1/reports/",
                    token=setup["keys"][i],
                    body=body,
                    headers={"Idempotency-Key": key},
                )
                tally.add("report", reply)
                if reply.status == 201:
                    with lock:
                        succeeded.append(title)
                    if reply.headers.get("idempotent-replayed"):
                        tally.count("replayed")
                    break
                if reply.status == 503 and is_clean_failure(reply):
                    tally.count("503")
                    if len(unavailable) < 50:
                        unavailable.append(reply)
                    if time.monotonic() < deadline:
                        time.sleep(0.2)  # Retry-After says 5 s; the test is in a hurry
                        continue
                tally.count("errors")
                with tally.lock:
                    tally.problems.append(f"{title}: {reply.describe()}")
                break

    def successes() -> int:
        with lock:
            return len(succeeded)

    faults, downtimes, recoveries, web_pages = [], [], [], []
    signed_in = {"Cookie": f"sessionid={setup['session']}"}
    home = call(server.base, "GET", "/", headers=signed_in, timeout=30)
    # While the database is up the session is signed in (a platform administrator is sent to enrol a second
    # factor, not to the sign-in page).
    assert (home.status, home.headers.get("location")) == (302, "/account/two-factor/enrol/?next=%2F")
    threads = run_threads(CLIENTS, client)
    try:
        wait_for(lambda: successes() >= SUCCESSES_BETWEEN, timeout=180, interval=0.1)
        workers = server.worker_pids()
        for cycle in range(RESTARTS):
            refused_before = tally.counts["503"]
            stopped_at = time.monotonic()
            postgres.stop(mode="fast")
            faults.append(f"postgres stop -m fast #{cycle + 1}")

            readiness = wait_for(
                lambda: (r := call(server.base, "GET", "/readyz", timeout=30)).status == 503 and r,
                timeout=60,
            )
            shown = {key: readiness.json[key] for key in ("status", "checks")}
            assert shown == {"status": "not ready", "checks": {"database": False, "broker": True}}
            # A page of the web app, signed in: the person behind the session (in Redis) cannot be read.
            page = call(
                server.base, "GET", "/", headers={"Cookie": f"sessionid={setup['session']}"}, timeout=30
            )
            web_pages.append(page)
            wait_for(lambda before=refused_before: tally.counts["503"] >= before + CLIENTS, timeout=60)
            wait_for(lambda at=stopped_at: time.monotonic() - at >= DOWN_SECONDS, timeout=120)

            postgres.start()
            downtimes.append(time.monotonic() - stopped_at)
            wait_for(lambda: call(server.base, "GET", "/readyz", timeout=30).status == 200, timeout=90)
            recoveries.append(time.monotonic() - stopped_at - downtimes[-1])
            target = successes() + SUCCESSES_BETWEEN
            wait_for(lambda target=target: successes() >= target, timeout=180)
        wait_for(lambda: time.monotonic() - started >= MIN_SECONDS, timeout=MIN_SECONDS + 60, interval=1)
    finally:
        stop.set()
        join_all(threads, timeout=400)
        if not postgres.running():
            postgres.start()

    # While it was down: 503 JSON with the code and Retry-After, a plain 503 page on the web; never a 500.
    assert tally.counts["errors"] == 0, tally.problems[:10]
    assert set(tally.statuses) <= {201, 503}, tally.statuses
    assert unavailable
    for reply in unavailable:
        assert reply.json == {"detail": "Service temporarily unavailable", "code": "database_unavailable"}
        assert reply.headers["retry-after"] == "5"
    for page in web_pages:
        assert page.status == 503, page.describe()
        assert page.content_type.startswith("text/html"), page.describe()
        assert b"Service temporarily unavailable" in page.body

    # Recovered by itself: the same gunicorn workers, ready, serving.
    assert server.process.poll() is None
    assert server.worker_pids() == workers, "gunicorn workers were restarted"

    # No half-written rows: every report answered 201 is there once, with its audit entry; nothing else is.
    rows = _count(postgres, "SELECT count(*) FROM reporting_report")
    audited = _count(postgres, "SELECT count(*) FROM audit_auditentry WHERE verb = 'report.created'")
    titles = _count(postgres, "SELECT count(DISTINCT title) FROM reporting_report")
    assert rows == len(succeeded) == titles == audited == tally.statuses[201]
    record(
        FaultRun(
            name="postgres restarted under load",
            faults=faults,
            requests=tally.requests,
            statuses=dict(tally.statuses),
            rows={"reports": rows, "201 answers": tally.statuses[201], "replayed": tally.counts["replayed"]},
            errors=tally.counts["errors"],
            seconds=time.monotonic() - started,
            notes="down {} s, ready again {} s after start".format(
                "/".join(f"{d:.1f}" for d in downtimes), "/".join(f"{r:.1f}" for r in recoveries)
            ),
        )
    )
