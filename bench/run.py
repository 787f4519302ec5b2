# ruff: noqa: T201, S608, S310, E501 - a command-line benchmark: it prints, sends hand-written SQL (constants, long) and calls its own server
"""The scale benchmark (issue 7): latency of Vigil's hot endpoints against a real gunicorn and PostgreSQL,
beside the floor (the same data through one hand-written SQL query and json.dumps), queries per request
at page sizes 10 and 100, and the due-reminder sweep with its plan.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/vigil_bench REDIS_URL=redis://127.0.0.1:6379/14 \
        .venv/bin/python bench/run.py --label 10k --requests 200

The database must hold `manage.py generate_data` output. Results are merged into bench/results.json under
`--label`; the reminder sweep's EXPLAIN goes to bench/explain_reminder_sweep_<label>.txt. Every number is
measured in one run on one machine: compare ratios, not absolute times, across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DEBUG", "0")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _timed(fn, n: int, budget: float = 60.0) -> dict:
    """n calls, or fewer (at least 5) when they overrun `budget` seconds: a pathological endpoint is
    reported with fewer samples instead of stalling the run."""
    samples = []
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - t0) * 1000)
        if i >= 4 and time.perf_counter() - started > budget:
            break
    total = time.perf_counter() - started
    n = len(samples)
    return {
        "samples": n,
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(_pct(samples, 0.95), 2),
        "rps": round(n / total, 1),
    }


class Gunicorn:
    def __init__(self, workers: int = 2):
        self.port = _free_port()
        env = {
            **os.environ,
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
        self.proc = subprocess.Popen(  # noqa: S603 - our own server, fixed argv
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=2).read()
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not come up")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_rss_mb(self) -> list[float]:
        out = subprocess.run(  # noqa: S603
            ["/usr/bin/ps", "--ppid", str(self.proc.pid), "-o", "rss="], capture_output=True, text=True
        ).stdout
        return [round(int(v) / 1024, 1) for v in out.split()]

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", help="e.g. 10k, 1M (the key in results.json)")
    parser.add_argument(
        "--compare", nargs=2, metavar=("SMALL", "LARGE"), help="print the growth table of two stored runs"
    )
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per endpoint")
    parser.add_argument("--page-size", type=int, default=50)
    args = parser.parse_args()
    if args.compare:
        return _compare(*args.compare)
    if not args.label:
        parser.error("--label is required")

    import django

    django.setup()
    import psycopg
    from django.db import connection, connections, transaction
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from apps.accounts.models import User
    from apps.insights.generate import BENCH
    from apps.notifications.reminders import obligation_reminders_due_queryset
    from apps.tenancy.context import SYSTEM_DATABASE
    from apps.tenancy.models import ApiToken, hash_token

    dsn = os.environ["DATABASE_URL"]
    floor_db = psycopg.connect(dsn, autocommit=True)

    def one(sql, params=()):
        with floor_db.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()

    counts = one(
        "SELECT (SELECT count(*) FROM response_incident), (SELECT count(*) FROM response_incidentuserobjectpermission), (SELECT count(*) FROM notifications_obligation WHERE status = 'pending')"
    )
    print(f"[bench {args.label}] incidents={counts[0]} grants={counts[1]} pending obligations={counts[2]}")

    # Tokens for the named people (fresh keys each run; only their hashes are stored).
    keys = {}
    users = {
        u.username: u
        for u in User.objects.filter(username__in=[BENCH.handler, BENCH.executive, BENCH.manager])
    }
    if len(users) != 3:
        print("the database holds no generated data: run `make bench-data N=…` first", file=sys.stderr)
        return 2
    ApiToken.objects.filter(user__in=users.values(), name="bench").delete()
    for username, user in users.items():
        key = ApiToken.generate_key()
        ApiToken.objects.create(user=user, name="bench", key_hash=hash_token(key), key_prefix=key[:12])
        keys[username] = key

    # Sample objects (through SQL: the bench is not a tenant context).
    dept0 = one("SELECT id FROM tenancy_tenant WHERE slug = %s", [BENCH.handler_tenant_slug])[0]
    handler_id, exec_id = users[BENCH.handler].pk, users[BENCH.executive].pk
    exec_tenants = [
        r[0]
        for r in floor_db.execute(
            "SELECT DISTINCT t.id FROM tenancy_membership m JOIN tenancy_tenant mt ON mt.id = m.tenant_id"
            " JOIN tenancy_tenant t ON t.path LIKE mt.path || '%%' WHERE m.user_id = %s",
            [exec_id],
        ).fetchall()
    ]
    incident_ids = [
        str(r[0])
        for r in floor_db.execute(
            "SELECT id FROM response_incident WHERE tenant_id = %s AND NOT restricted"
            " ORDER BY created_at DESC LIMIT 50",
            [dept0],
        ).fetchall()
    ]
    report_ids = [
        str(r[0])
        for r in floor_db.execute(
            "SELECT report_id FROM assessment_assessment WHERE tenant_id = %s ORDER BY decided_at DESC LIMIT 50",
            [dept0],
        ).fetchall()
    ]
    year = datetime.now(UTC).year - 1
    due_before = (datetime.now(UTC) + timedelta(hours=72)).strftime("%Y-%m-%dT%H:%M:%SZ")
    perm_ids = [
        r[0]
        for r in floor_db.execute(
            "SELECT id FROM auth_permission WHERE codename IN ('view_incident', 'change_incident')"
        ).fetchall()
    ]
    print(f"[bench {args.label}] executive oversees {len(exec_tenants)} tenants")

    P = args.page_size
    H, E = BENCH.handler, BENCH.executive
    # (name, user, method, path (may use {i}), body, floor SQL, floor params)
    inc_cols = (
        "i.id, i.reference, i.title, i.description, i.status, i.category_id, c.name AS category_name, i.impact, "
        "i.urgency, i.severity, i.restricted, i.owner_id, u.username AS owner, i.personal_data_breach, i.regimes, "
        "i.affected_data_subjects, i.affected_records, i.affected_services, i.root_cause, i.false_alarm, "
        "i.close_rationale, i.declared_at, i.contained_at, i.recovered_at, i.closed_at, i.aware_at, "
        "i.classified_major_at, i.materiality_determined_at, i.discovered_at, i.escalated_severity, i.created_at, "
        "i.updated_at, i.tenant_id, t.name AS tenant_name"
    )
    inc_from = (
        "FROM response_incident i JOIN tenancy_tenant t ON t.id = i.tenant_id "
        "LEFT JOIN accounts_user u ON u.id = i.owner_id LEFT JOIN catalog_category c ON c.id = i.category_id "
    )
    visible = (
        "i.tenant_id = ANY(%(tenants)s) AND (NOT i.restricted OR EXISTS (SELECT 1 FROM "
        "response_incidentuserobjectpermission g WHERE g.content_object_id = i.id AND g.user_id = %(user)s "
        "AND g.permission_id = ANY(%(perms)s)))"
    )
    order = f"ORDER BY i.created_at DESC, i.id DESC LIMIT {P}"
    hp = {"tenants": [dept0], "user": handler_id, "perms": perm_ids}
    ep = {"tenants": exec_tenants, "user": exec_id, "perms": perm_ids}
    endpoints = [
        (
            "incident list (handler, 1 tenant)",
            H,
            "GET",
            f"/api/v1/incidents/?page_size={P}",
            f"SELECT {inc_cols} {inc_from} WHERE {visible} {order}",
            hp,
        ),
        (
            "incident list (executive, 50 tenants)",
            E,
            "GET",
            f"/api/v1/incidents/?page_size={P}",
            f"SELECT {inc_cols} {inc_from} WHERE i.tenant_id = ANY(%(tenants)s) {order}",
            ep,
        ),
        (
            "incident list status+severity",
            E,
            "GET",
            f"/api/v1/incidents/?page_size={P}&status=investigating&status=contained&severity=P1&severity=P2",
            f"SELECT {inc_cols} {inc_from} WHERE i.tenant_id = ANY(%(tenants)s) AND i.status IN "
            f"('investigating', 'contained') AND i.severity IN ('P1', 'P2') {order}",
            ep,
        ),
        (
            "incident list q=phishing",
            E,
            "GET",
            f"/api/v1/incidents/?page_size={P}&q=phishing",
            f"SELECT {inc_cols} {inc_from} WHERE i.tenant_id = ANY(%(tenants)s) AND i.search_vector @@ "
            f"websearch_to_tsquery('english', 'phishing') {order}",
            ep,
        ),
        (
            "incident detail",
            H,
            "GET",
            "/api/v1/incidents/{incident}/",
            f"SELECT {inc_cols} {inc_from} WHERE i.id = %(incident)s AND {visible}",
            hp,
        ),
        (
            "incident timeline",
            H,
            "GET",
            "/api/v1/incidents/{incident}/timeline/",
            "SELECT e.*, u.username FROM response_timelineentry e LEFT JOIN accounts_user u ON u.id = e.actor_id "
            f"WHERE e.incident_id = %(incident)s ORDER BY e.at, e.id LIMIT {P}",
            hp,
        ),
        ("report creation", H, "POST", "/api/v1/reports/", None, hp),
        (
            "assessment list of a report",
            H,
            "GET",
            "/api/v1/reports/{report}/assessment/",
            "SELECT a.*, u.username FROM assessment_assessment a JOIN accounts_user u ON u.id = a.decided_by_id "
            "WHERE a.report_id = %(report)s ORDER BY a.decided_at DESC",
            hp,
        ),
        (
            "evidence metadata list",
            H,
            "GET",
            f"/api/v1/evidence/?page_size={P}",
            "SELECT e.*, i.reference FROM evidence_evidence e JOIN response_incident i ON i.id = e.incident_id "
            f"WHERE e.tenant_id = ANY(%(tenants)s) AND NOT i.restricted "
            f"ORDER BY e.uploaded_at DESC, e.id DESC LIMIT {P}",
            hp,
        ),
        (
            "obligations due in 72 h",
            E,
            "GET",
            f"/api/v1/obligations/?page_size={P}&status=pending&due_before={due_before}",
            "SELECT o.*, s.name, i.reference FROM notifications_obligation o JOIN catalog_regimestep s ON "
            "s.id = o.step_id JOIN response_incident i ON i.id = o.incident_id WHERE o.tenant_id = ANY(%(tenants)s) "
            f"AND o.status = 'pending' AND o.due_at < now() + interval '72 hours' "
            f"ORDER BY o.created_at DESC, o.id DESC LIMIT {P}",
            ep,
        ),
        (
            "ISO 27001 report (tenant-year)",
            E,
            "GET",
            f"/api/v1/compliance/iso27001/?tenant={dept0}&from={year}-01-01&to={year}-12-31",
            "SELECT i.status, i.severity, count(*), avg(extract(epoch FROM i.closed_at - i.declared_at)) "
            "FROM response_incident i WHERE i.tenant_id = %(tenant)s AND i.declared_at >= %(start)s "
            "AND i.declared_at < %(end)s GROUP BY 1, 2",
            {**ep, "tenant": dept0},
        ),
        (
            "metrics (dashboard, 50 tenants)",
            E,
            "GET",
            "/api/v1/metrics/",
            "SELECT i.tenant_id, i.severity, count(*), avg(extract(epoch FROM i.contained_at - i.declared_at)), "
            "avg(extract(epoch FROM i.closed_at - i.declared_at)) FROM response_incident i WHERE "
            "i.tenant_id = ANY(%(tenants)s) AND i.declared_at >= now() - interval '365 days' GROUP BY 1, 2",
            ep,
        ),
    ]
    year_params = {"start": datetime(year, 1, 1, tzinfo=UTC), "end": datetime(year + 1, 1, 1, tzinfo=UTC)}

    def request_path(path: str, i: int) -> str:
        return path.format(
            incident=incident_ids[i % len(incident_ids)], report=report_ids[i % len(report_ids)]
        )

    def report_body(i: int) -> dict:
        return {
            "tenant": str(dept0),
            "kind": "event",
            "title": f"Bench report {i}",
            "description": "Suspicious phishing e-mail received.",
            "occurred_at": datetime.now(UTC).isoformat(),
        }

    results: dict = {
        "label": args.label,
        "incidents": counts[0],
        "grants": counts[1],
        "pending_obligations": counts[2],
        "requests_per_endpoint": args.requests,
        "page_size": P,
        "measured_at": datetime.now(UTC).isoformat(),
        "endpoints": {},
    }

    # 1. Queries per request at page sizes 10 and 100 (in-process test client, same database), with the
    # insights reports computed every time (their cache off in this process only: the worst case).
    from django.conf import settings

    settings.INSIGHTS_CACHE_SECONDS = 0
    client = APIClient()
    for name, user, method, path, _sql, _params in endpoints:
        client.credentials(HTTP_AUTHORIZATION=f"Token {keys[user]}")
        client.get("/api/v1/incidents/?page_size=1")  # the token's first use writes last_used_at
        per_size = {}
        for size in (10, 100):
            url = request_path(path.replace(f"page_size={P}", f"page_size={size}"), 0)
            with CaptureQueriesContext(connection) as captured:
                if method == "POST":
                    response = client.post(url, report_body(size), format="json")
                else:
                    response = client.get(url)
            assert response.status_code in (200, 201), (name, response.status_code, response.content[:300])
            per_size[size] = len(captured)
        results["endpoints"][name] = {"queries": per_size}

    # 2. Latency and throughput through gunicorn (2 workers, production-like settings).
    server = Gunicorn(workers=2)
    try:
        for name, user, method, path, _sql, _params in endpoints:
            headers = {"Authorization": f"Token {keys[user]}", "Accept": "application/json"}

            def call(i, path=path, method=method, headers=headers):
                data = None
                if method == "POST":
                    data = json.dumps(report_body(i)).encode()
                    headers = {**headers, "Content-Type": "application/json"}
                req = urllib.request.Request(server.base + request_path(path, i), data=data, headers=headers)
                with urllib.request.urlopen(req, timeout=60) as response:
                    response.read()

            for i in range(5):  # warm both workers' connections and caches
                call(i)
            results["endpoints"][name].update(_timed(call, args.requests))
            print(f"  {name}: {results['endpoints'][name]}", flush=True)

        # The transport alone: /healthz (no database, no authentication) through the same server and client.
        def health(i):
            with urllib.request.urlopen(server.base + "/healthz", timeout=10) as response:
                response.read()

        results["http_baseline"] = _timed(health, args.requests)
        print(f"  http baseline (/healthz): {results['http_baseline']}", flush=True)
        results["gunicorn_worker_rss_mb"] = server.worker_rss_mb()
    finally:
        server.stop()

    # 3. The floor: one hand-written query through psycopg, serialised with json.dumps, same process.
    for name, _user, method, _path, sql, params in endpoints:

        def floor(i, sql=sql, params=params, method=method):
            with floor_db.cursor() as cur:
                if method == "POST":
                    cur.execute(
                        "WITH n AS (INSERT INTO tenancy_referencecounter (tenant_id, kind, year, last) "
                        "VALUES (%(tenant)s, 'report', 2026, 1) ON CONFLICT (tenant_id, kind, year) DO UPDATE "
                        "SET last = tenancy_referencecounter.last + 1 RETURNING last) "
                        "INSERT INTO reporting_report (id, tenant_id, reference, kind, title, description, "
                        "occurred_at, confidential, status, reporter_id, channel, received_at, created_at, "
                        "updated_at) SELECT gen_random_uuid(), %(tenant)s, 'FLOOR-' || n.last, 'event', "
                        "'Floor report', '', now(), false, 'new', %(user)s, 'api', now(), now(), now() FROM n "
                        "RETURNING *",
                        {"tenant": dept0, "user": handler_id},
                    )
                else:
                    cur.execute(
                        sql,
                        {
                            **params,
                            **year_params,
                            "incident": incident_ids[i % len(incident_ids)],
                            "report": report_ids[i % len(report_ids)],
                        },
                    )
                columns = [c.name for c in cur.description]
                rows = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
            json.dumps({"results": rows}, default=str)

        for i in range(3):
            floor(i)
        timing = _timed(floor, args.requests)
        entry = results["endpoints"][name]
        entry["floor"] = timing
        entry["ratio_median"] = round(entry["median_ms"] / timing["median_ms"], 1)
        entry["ratio_p95"] = round(entry["p95_ms"] / timing["p95_ms"], 1)
    # The floor's report rows are not Vigil's: take them out again.
    floor_db.execute("DELETE FROM reporting_report WHERE reference LIKE 'FLOOR-%%'")

    # 4. The due-reminder sweep: the scanner's claim query as the Celery beat task runs it (on the system
    # connection, which crosses tenants; settings, "Database roles"), rolled back.
    now = datetime.now(UTC)
    due = one(
        "SELECT count(*) FROM notifications_obligation WHERE status = 'pending' AND next_reminder_at <= %s",
        [now],
    )[0]
    samples = []
    for _ in range(20):
        with transaction.atomic(using=SYSTEM_DATABASE):
            t0 = time.perf_counter()
            claimed = list(
                obligation_reminders_due_queryset(now=now)
                .using(SYSTEM_DATABASE)
                .select_for_update(skip_locked=True, no_key=True)[:200]
            )
            samples.append((time.perf_counter() - t0) * 1000)
            transaction.set_rollback(True, using=SYSTEM_DATABASE)
    queryset = obligation_reminders_due_queryset(now=now).using(SYSTEM_DATABASE)[:200]
    with connections[SYSTEM_DATABASE].cursor() as cursor:
        sql, params = queryset.query.sql_with_params()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql + " FOR NO KEY UPDATE SKIP LOCKED", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    explain_path = ROOT / "bench" / f"explain_reminder_sweep_{args.label}.txt"
    explain_path.write_text(f"-- {sql}\n-- due now: {due}, claimed per batch: {len(claimed)}\n{plan}\n")
    results["reminder_sweep"] = {
        "due_now": due,
        "batch": 200,
        "claimed": len(claimed),
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(_pct(samples, 0.95), 2),
        "plan_uses_index": "notif_obligation_reminder_due" in plan,
        "explain": str(explain_path.relative_to(ROOT)),
    }

    # 5. The plans of a page of the big lists as a request runs them: the app's connection (runtime role,
    # row-level security on) inside the caller's context. A page walks an ordered index (issue 7).
    from apps.evidence.selectors import evidence_list
    from apps.notifications.selectors import obligation_list
    from apps.response.selectors import incident_list, with_team_ids
    from apps.tenancy.access import access_for
    from apps.tenancy.context import activate

    page = P + 1
    newest = ("-created_at", "-id")
    lists = {  # name: (who, the list's queryset, its keyset ordering)
        "incident list (handler)": (
            H,
            lambda a: with_team_ids(incident_list(access=a).select_related(None)),
            newest,
        ),
        "incident list (executive)": (
            E,
            lambda a: with_team_ids(incident_list(access=a).select_related(None)),
            newest,
        ),
        "evidence metadata list (handler)": (H, lambda a: evidence_list(access=a), ("-uploaded_at", "-id")),
        "obligations due in 72 h (executive)": (
            E,
            lambda a: obligation_list(access=a).filter(
                status="pending", due_at__lt=now + timedelta(hours=72)
            ),
            newest,
        ),
    }
    plans = []
    for name, (username, build, ordering) in lists.items():
        access = access_for(users[username])
        with transaction.atomic(), activate(access):
            queryset = build(access).order_by(*ordering)[:page]
            sql, params = queryset.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
        page_sort = f"Sort Key: {queryset.model._meta.db_table}.{ordering[0].lstrip('-')}"
        shape = "sorts the rows it read" if page_sort in plan else "walks an ordered index"
        plans.append(f"== {name}: {shape}\n{plan}\n")
    lists_path = ROOT / "bench" / f"explain_lists_{args.label}.txt"
    lists_path.write_text("\n".join(plans))
    results["list_plans"] = str(lists_path.relative_to(ROOT))

    # 6. The insights reports computed from the rows, bypassing their cache (apps/insights/cache.py), in
    # this process: what the first read after a change costs.
    from apps.insights.iso27001 import iso27001_sections
    from apps.insights.metrics import metrics_computed
    from apps.insights.period import Period, period_from
    from apps.tenancy.access import Access

    iso_period = Period(year_params["start"].date(), year_params["end"].date() - timedelta(days=1))
    uncached = {
        "ISO 27001 report (tenant-year), uncached": (
            [dept0],
            lambda i: iso27001_sections(tenant_ids=frozenset([dept0]), period=iso_period),
        ),
        "metrics (dashboard, 50 tenants), uncached": (
            exec_tenants,
            lambda i: metrics_computed(tenant_ids=frozenset(exec_tenants), period=period_from(None, None)),
        ),
    }
    results["uncached"] = {}
    for name, (tenants, compute) in uncached.items():
        with activate(Access.system(tenants)):
            compute(0)
            results["uncached"][name] = _timed(compute, min(args.requests, 30))
    # The dashboard after a change in one of its tenants: only that tenant's cached part is computed again
    # (apps.insights.cache.cached_parts), the others' come from the cache.
    from apps.insights.cache import invalidate
    from apps.insights.metrics import metrics_for

    settings.INSIGHTS_CACHE_SECONDS = 120
    dashboard_period = period_from(None, None)
    with activate(Access.system(exec_tenants)):

        def after_one_change(i):
            invalidate(exec_tenants[i % len(exec_tenants)])
            metrics_for(tenant_ids=frozenset(exec_tenants), period=dashboard_period)

        metrics_for(tenant_ids=frozenset(exec_tenants), period=dashboard_period)
        results["uncached"]["metrics (dashboard, 50 tenants), 1 tenant changed"] = _timed(
            after_one_change, min(args.requests, 30)
        )
    settings.INSIGHTS_CACHE_SECONDS = 0

    ApiToken.objects.filter(user__in=users.values(), name="bench").delete()
    _print_table(results)
    path = ROOT / "bench" / "results.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    stored[args.label] = results
    path.write_text(json.dumps(stored, indent=2, default=str) + "\n")
    print(f"written {path.relative_to(ROOT)} [{args.label}]")
    return 0


def _print_table(results: dict) -> None:
    print(
        f"\n{results['label']}: {results['incidents']} incidents, {results['grants']} grants, "
        f"{results['requests_per_endpoint']} requests per endpoint, page size {results['page_size']}"
    )
    head = f"{'endpoint':40} {'med ms':>8} {'p95 ms':>8} {'req/s':>7} {'floor med':>9} {'ratio':>6} {'q@10':>5} {'q@100':>6}"
    print(head)
    print("-" * len(head))
    for name, e in results["endpoints"].items():
        print(
            f"{name:40} {e['median_ms']:8.1f} {e['p95_ms']:8.1f} {e['rps']:7.1f} {e['floor']['median_ms']:9.2f} "
            f"{e['ratio_median']:6.1f} {e['queries'][10]:5} {e['queries'][100]:6}"
        )
    s = results["reminder_sweep"]
    print(
        f"{'reminder sweep (claim 200)':40} {s['median_ms']:8.1f} {s['p95_ms']:8.1f}   due now: {s['due_now']}, "
        f"index scan: {s['plan_uses_index']}"
    )
    for name, e in results.get("uncached", {}).items():
        print(f"{name + ' (in-process)':58} {e['median_ms']:8.1f} {e['p95_ms']:8.1f}")
    if "http_baseline" in results:
        b = results["http_baseline"]
        print(f"{'http baseline: GET /healthz':40} {b['median_ms']:8.1f} {b['p95_ms']:8.1f} {b['rps']:7.1f}")
    print(f"gunicorn worker RSS (MB): {results.get('gunicorn_worker_rss_mb')}")


def _compare(small: str, large: str) -> int:
    """Growth (p95 large / p95 small, target <= 1.5) and overhead (median / floor) from results.json."""
    stored = json.loads((ROOT / "bench" / "results.json").read_text())
    a, b = stored[small], stored[large]
    print(f"growth {small} ({a['incidents']} incidents) -> {large} ({b['incidents']} incidents)")
    # The p95 of a few hundred sequential requests moves by tens of percent between runs on a shared
    # machine; the medians' growth beside it tells a real trend from a noisy tail.
    head = (
        f"{'endpoint':40} {'p95 ' + small:>10} {'p95 ' + large:>10} {'growth':>7} {'median gr.':>10} "
        f"{'ratio/floor':>11} {'queries':>8}"
    )
    print(head)
    print("-" * len(head))
    for name, e in b["endpoints"].items():
        base = a["endpoints"].get(name)
        growth = f"{e['p95_ms'] / base['p95_ms']:7.2f}" if base else "      -"
        median_growth = f"{e['median_ms'] / base['median_ms']:10.2f}" if base else "         -"
        base_p95 = f"{base['p95_ms']:10.1f}" if base else "         -"
        print(
            f"{name:40} {base_p95} {e['p95_ms']:10.1f} {growth} {median_growth} {e['ratio_median']:11.1f} "
            f"{e['queries']['10']:>3}/{e['queries']['100']:<4}"
        )
    sa, sb = a["reminder_sweep"], b["reminder_sweep"]
    print(
        f"{'reminder sweep (claim 200)':40} {sa['p95_ms']:10.1f} {sb['p95_ms']:10.1f} "
        f"{sb['p95_ms'] / sa['p95_ms']:7.2f}   due {sa['due_now']} -> {sb['due_now']}"
    )
    for name, e in b.get("uncached", {}).items():
        base = a.get("uncached", {}).get(name)
        growth = f"{e['p95_ms'] / base['p95_ms']:7.2f}" if base else "      -"
        base_p95 = f"{base['p95_ms']:10.1f}" if base else "         -"
        print(f"{name:40} {base_p95} {e['p95_ms']:10.1f} {growth}   in-process, no HTTP")
    if "http_baseline" in b:
        ha, hb = a.get("http_baseline"), b["http_baseline"]
        print(
            f"{'http baseline: GET /healthz':40} {ha['p95_ms'] if ha else float('nan'):10.1f} "
            f"{hb['p95_ms']:10.1f}   median {hb['median_ms']} ms"
        )
    print(f"worker RSS MB: {a.get('gunicorn_worker_rss_mb')} -> {b.get('gunicorn_worker_rss_mb')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
