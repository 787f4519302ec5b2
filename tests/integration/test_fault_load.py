"""50 concurrent clients filing reports against gunicorn (issue 8): no errors, and every 201 is one row.

gunicorn runs with the production settings path (DATABASE_URL, DEBUG off) on the test database and a
throwaway Redis; each client is a reporter with its own API token (the per-user and per-token rates are
those of production). Every answer must be 201, and the reports in the database must be exactly those.

`make test`: 10 s; `make chaos`: CHAOS_SECONDS (60).
"""

import time
from datetime import UTC, datetime

import pytest
from django.db import transaction

from apps.reporting.models import Report
from apps.tenancy.services import token_create
from tests.factories import MembershipFactory, UserFactory
from tests.integration.conftest import _test_database_url
from tests.integration.faults import (
    CHAOS_SECONDS,
    FaultRun,
    Gunicorn,
    Tally,
    ThrowawayRedis,
    app_env,
    bounded_or_chaos,
    call,
    join_all,
    record,
    run_threads,
)

pytestmark = [pytest.mark.integration, pytest.mark.chaos, pytest.mark.django_db(transaction=True)]

CLIENTS = 50
SECONDS = bounded_or_chaos(10, CHAOS_SECONDS)


@pytest.fixture
def server(transactional_db, tmp_path):
    redis = ThrowawayRedis(tmp_path)
    redis.start()
    try:
        gunicorn = Gunicorn(
            app_env(database_url=_test_database_url(), redis_url=redis.url), tmp_path / "gunicorn.log"
        )
        try:
            yield gunicorn
        finally:
            gunicorn.stop()
    finally:
        redis.stop()


def test_fifty_clients_file_reports_without_an_error(tenant, server):
    keys = []
    for n in range(CLIENTS):
        user = UserFactory(email=f"reporter{n}@example.org")
        MembershipFactory(user=user, tenant=tenant, role="reporter")
        with transaction.atomic():
            keys.append(token_create(actor=user, user=user, name="load")[1])
    tally = Tally()
    titles: list[str] = []

    def client(i: int, deadline: float) -> None:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            body = {
                "tenant": str(tenant.id),
                "kind": "event",
                "title": f"Load {i}-{n}",
                "occurred_at": datetime.now(UTC).isoformat(),
            }
            reply = call(server.base, "POST", "/api/v1/reports/", token=keys[i], body=body)
            tally.add("report", reply)
            if reply.status == 201:
                titles.append(body["title"])
            else:
                tally.count("errors")
                with tally.lock:
                    tally.problems.append(reply.describe())

    started = time.monotonic()
    join_all(run_threads(CLIENTS, client, started + SECONDS), timeout=SECONDS + 120)
    elapsed = time.monotonic() - started

    assert tally.counts["errors"] == 0, tally.problems[:10]
    assert tally.requests == tally.statuses[201] == len(titles) > 0
    rows = Report.unscoped.filter(tenant=tenant)
    assert rows.count() == tally.statuses[201]
    assert set(rows.values_list("title", flat=True)) == set(titles)
    assert server.process.poll() is None
    record(
        FaultRun(
            name=f"{CLIENTS} clients filing reports",
            requests=tally.requests,
            statuses=dict(tally.statuses),
            rows={"reports": rows.count()},
            errors=tally.counts["errors"],
            seconds=elapsed,
            notes=f"{tally.requests / elapsed:.0f} requests/s",
        )
    )
