"""A realistic, reproducible data set for the scale benchmark (issue 7), loaded through COPY.

Everything is derived from one seed and one anchor time (`now`, the current hour by default): the same
seed gives the same tenants, users, incidents and grants. Rows are written with PostgreSQL COPY through
psycopg 3 in chunks of incidents; each chunk is one transaction (checks, constraint triggers and the
append-only triggers are enforced: COPY is an INSERT). Secondary indexes and foreign keys (the composite
same-tenant keys included) of the big tables are dropped before the load and added back after it: one
sort per index instead of millions of inserts, one validating join per key instead of a lookup per row; a
row pointing nowhere or at another tenant's parent fails the run. The incidents' `search_vector` trigger
stays enabled and fills the column row by row during COPY. Audit rows are not generated: the audit trail
is a hash chain that only the services write.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.contrib.auth.hashers import make_password
from django.db import connections, transaction

GENERATED_SLUG_PREFIX = "gen-"
BENCH_PASSWORD = "bench-password-not-secret"  # noqa: S105 - synthetic users of a benchmark
N_TENANTS = 200
N_DIVISIONS = 10
N_USERS = 20_000
N_GRANTS = 200_000
CHUNK = 25_000  # incidents per transaction
PENDING_DAYS = 110  # obligations of incidents declared this recently are still pending
PENDING_DUE_AHEAD_DAYS = 90
NULL = "\\N"  # COPY text format
# A bulk load, not the app: it writes as the tables' owner (COPY into a table under row-level security is
# refused to any other role, and dropping and rebuilding indexes needs the owner; settings, "Database roles").
OWNER = "owner"

# The tables whose secondary indexes are rebuilt after the load (constraint indexes stay).
BIG_TABLES = [
    "response_incident",
    "reporting_report",
    "assessment_assessment",
    "response_timelineentry",
    "response_responseaction",
    "evidence_evidence",
    "notifications_obligation",
    "reviews_review",
    "response_incidentuserobjectpermission",
    "tenancy_membership",
    "accounts_user",
]

ADJECTIVES = [
    "suspicious",
    "unauthorised",
    "failed",
    "malicious",
    "unexpected",
    "anomalous",
    "repeated",
    "lost",
    "exposed",
    "misdirected",
]
NOUNS = [
    "phishing",
    "malware",
    "ransomware",
    "login",
    "access",
    "transfer",
    "outage",
    "leak",
    "scan",
    "exfiltration",
    "credential",
    "laptop",
    "email",
    "backup",
    "firewall",
    "certificate",
]
SYSTEMS = [
    "payroll",
    "CRM",
    "ERP",
    "VPN",
    "mail-gateway",
    "HR-portal",
    "website",
    "datacenter",
    "SharePoint",
    "SAP",
    "billing",
    "wiki",
]
LEVELS = ["low", "medium", "high", "critical"]
MATRIX = {
    "low": {"low": "P4", "medium": "P4", "high": "P4", "critical": "P3"},
    "medium": {"low": "P4", "medium": "P3", "high": "P3", "critical": "P2"},
    "high": {"low": "P4", "medium": "P3", "high": "P2", "critical": "P1"},
    "critical": {"low": "P3", "medium": "P2", "high": "P1", "critical": "P1"},
}
# (status, weight): older incidents are mostly closed.
STATUSES = [
    ("closed", 70),
    ("recovered", 8),
    ("eradicated", 5),
    ("contained", 5),
    ("investigating", 7),
    ("declared", 5),
]
ROLES = [
    ("reporter", 70),
    ("handler", 15),
    ("investigator", 5),
    ("manager", 4),
    ("auditor", 2),
    ("tenant_admin", 2),
    ("executive", 2),
]
HANDLER_ROLES = ("handler", "investigator", "manager")


class RefusedError(RuntimeError):
    pass


def _weighted(rng: random.Random, pairs, k: int) -> list:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights, k=k)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ts(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", " ").replace("\n", "\\n")


@dataclass
class Timings:
    rows: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    def add(self, table: str, rows: int, seconds: float) -> None:
        self.rows[table] = self.rows.get(table, 0) + rows
        self.seconds[table] = self.seconds.get(table, 0.0) + seconds


@dataclass(frozen=True)
class BenchPeople:
    """Named users the benchmark signs in as (deterministic usernames)."""

    handler_tenant_slug: str = "gen-t-000"
    handler: str = "bench-handler"
    executive: str = "bench-executive"
    manager: str = "bench-manager"


BENCH = BenchPeople()


class Generator:
    def __init__(
        self,
        *,
        incidents: int,
        seed: int,
        grants: int | None = None,
        now: datetime | None = None,
        log: Callable = print,
    ):
        self.n = incidents
        self.grants = grants
        self.seed = seed
        self.rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
        self.now = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
        self.t_now = self.now.timestamp()
        self.log = log
        self.timings = Timings()

    # ------------------------------------------------------------------ plumbing
    def _start(self) -> None:
        """Mark the start of a table's work: its timing covers building the rows and the COPY."""
        self._mark = time.perf_counter()

    def _copy(self, table: str, columns: list[str], lines: list[str]) -> None:
        started = getattr(self, "_mark", None) or time.perf_counter()
        self._mark = None
        extra = self._required_extras(table, columns)
        if extra:  # columns added since this generator was written: their empty value
            columns = [*columns, *extra]
            tail = "\t" + "\t".join(extra.values()) + "\n"
            lines = [line[:-1] + tail for line in lines]
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with connections[OWNER].cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(sql) as copy:
                buffer: list[str] = []
                size = 0
                for line in lines:
                    buffer.append(line)
                    size += len(line)
                    if size > 1 << 20:
                        copy.write("".join(buffer))
                        buffer, size = [], 0
                if buffer:
                    copy.write("".join(buffer))
        self.timings.add(table, len(lines), time.perf_counter() - started)

    def _required_extras(self, table: str, columns: list[str]) -> dict[str, str]:
        """NOT NULL columns without a database default that `columns` leaves out, with an empty value
        (text '', boolean false, JSON {}), so a newly added blank=True field does not break the load."""
        empty = {"text": "", "character varying": "", "boolean": "f", "jsonb": "{}", "ARRAY": "{}"}
        extras = {}
        for name, data_type in self._execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s"
            " AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'",
            [table],
        ):
            if name not in columns and name != "search_vector":
                if data_type not in empty:
                    raise RuntimeError(
                        f"{table}.{name} ({data_type}) is NOT NULL: teach generate_data its value"
                    )
                extras[name] = empty[data_type]
        return extras

    def _execute(self, sql: str, params=None):
        with connections[OWNER].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else None

    def check_database(self, *, force: bool) -> None:
        generated = self._execute("SELECT count(*) FROM tenancy_tenant WHERE slug LIKE %s", ["gen-%"])[0][0]
        if generated:
            raise RefusedError(
                "This database already holds generated data: recreate it first (make bench-data does)."
            )
        foreign = self._execute(
            "SELECT (SELECT count(*) FROM tenancy_tenant) + (SELECT count(*) FROM accounts_user)"
            " + (SELECT count(*) FROM response_incident)"
        )[0][0]
        if foreign and not force:
            raise RefusedError(
                f"This database holds {foreign} tenants/users/incidents that were not generated; "
                "refusing to add benchmark data to it (use a dedicated database, or --force)."
            )

    # ------------------------------------------------------------------ indexes
    def _secondary_indexes(self) -> list[tuple[str, str]]:
        return self._execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            JOIN pg_class c ON c.relname = i.indexname
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
            ORDER BY i.tablename, i.indexname
            """,
            [BIG_TABLES],
        )

    def _foreign_keys(self) -> list[tuple[str, str, str]]:
        """(table, name, definition) of the big tables' foreign keys: checked row by row during COPY, they
        cost more than the load itself; added back afterwards, each is validated in one join instead."""
        return self._execute(
            """
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
            WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)
            ORDER BY 1, 2
            """,
            [BIG_TABLES],
        )

    # ------------------------------------------------------------------ the run
    def run(self, *, force: bool = False) -> Timings:
        self.check_database(force=force)
        started = time.perf_counter()
        indexes = self._secondary_indexes()
        foreign_keys = self._foreign_keys()
        with transaction.atomic(using=OWNER):
            for name, _ in indexes:
                self._execute(f'DROP INDEX "{name}"')
            for table, name, _ in foreign_keys:
                self._execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        self.log(
            f"dropped {len(indexes)} secondary indexes and {len(foreign_keys)} foreign keys of the big tables"
        )
        self._reference_data()
        with transaction.atomic(using=OWNER):
            self._tenants()
            self._users()
        self._incidents()
        with transaction.atomic(using=OWNER):
            self._grants()
            self._counters()
        t0 = time.perf_counter()
        # Inside an outer transaction (the smoke test) the deferred foreign-key checks are still queued, and
        # CREATE INDEX refuses a table with pending trigger events: run them now.
        self._execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name, definition in indexes:
            t1 = time.perf_counter()
            self._execute(definition)
            self.log(f"  index {name}: {time.perf_counter() - t1:.1f}s")
        self.timings.add("(rebuild secondary indexes)", len(indexes), time.perf_counter() - t0)
        t0 = time.perf_counter()
        for table, name, definition in foreign_keys:  # validated: a row pointing nowhere fails the run
            self._execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        self.timings.add("(validate foreign keys)", len(foreign_keys), time.perf_counter() - t0)
        t0 = time.perf_counter()
        if connections[OWNER].in_atomic_block:
            self._execute("ANALYZE")
        else:
            self._execute("VACUUM (ANALYZE)")
        self.timings.add("(vacuum analyze)", 0, time.perf_counter() - t0)
        self.timings.add("(total)", 0, time.perf_counter() - started)
        return self.timings

    def _reference_data(self) -> None:
        self.categories = [
            str(r[0])
            for r in self._execute("SELECT id FROM catalog_category WHERE tenant_id IS NULL ORDER BY id")
        ]
        steps = self._execute(
            "SELECT s.id, r.code, s.notice, s.recipient FROM catalog_regimestep s"
            " JOIN catalog_regime r ON r.id = s.regime_id WHERE s.tenant_id IS NULL AND r.code = 'gdpr'"
            " ORDER BY s.notice, s.id"
        )
        by_notice: dict = {}
        for step_id, regime, notice, recipient in steps:
            by_notice.setdefault(notice, (str(step_id), regime, notice, recipient))
        self.steps = list(by_notice.values())[:3]
        perms = dict(
            self._execute(
                "SELECT p.codename, p.id FROM auth_permission p JOIN django_content_type c"
                " ON c.id = p.content_type_id WHERE c.app_label = 'response' AND c.model = 'incident'"
                " AND p.codename IN ('view_incident', 'change_incident')"
            )
        )
        self.perm_view, self.perm_change = perms["view_incident"], perms["change_incident"]

    def _tenants(self) -> None:
        self._start()
        rng = self.rng
        created = _ts(self.t_now - 4 * 365 * 86400)
        root = _uuid(rng)
        tenants = [(root, None, "/" + root + "/", "Group", "gen-group", "GRP")]
        divisions = []
        for d in range(N_DIVISIONS):
            tid = _uuid(rng)
            divisions.append(tid)
            tenants.append((tid, root, f"/{root}/{tid}/", f"Division {d:02d}", f"gen-d-{d:02d}", f"D{d:02d}"))
        departments = []
        for t in range(N_TENANTS - 1 - N_DIVISIONS):
            tid = _uuid(rng)
            parent = divisions[t % N_DIVISIONS]
            departments.append(tid)
            tenants.append(
                (
                    tid,
                    parent,
                    f"/{root}/{parent}/{tid}/",
                    f"Department {t:03d}",
                    f"gen-t-{t:03d}",
                    f"T{t:03d}",
                )
            )
        self.root, self.divisions, self.departments = root, divisions, departments
        self.division_of = {t[0]: t[1] for t in tenants if t[1] in set(divisions)}
        self.prefix = {t[0]: t[5] for t in tenants}
        lines = [
            f"{tid}\t{parent or NULL}\t{path}\t{name}\t{slug}\t{prefix}\tUTC\tFR\t{{}}\t{created}\n"
            for tid, parent, path, name, slug, prefix in tenants
        ]
        self._copy(
            "tenancy_tenant",
            [
                "id",
                "parent_id",
                "path",
                "name",
                "slug",
                "reference_prefix",
                "time_zone",
                "country",
                "settings",
                "created_at",
            ],
            lines,
        )
        # Incidents land in departments (skewed: a few large ones), sometimes in divisions.
        weights = [1 + (self.rng.paretovariate(1.5) if i % 7 == 0 else 0) for i in range(len(departments))]
        self.incident_tenants = departments + divisions
        self.incident_weights = weights + [0.3] * len(divisions)

    def _users(self) -> None:
        self._start()
        rng = self.rng
        password = make_password(BENCH_PASSWORD, salt=f"benchsalt{self.seed}")
        joined = _ts(self.t_now - 3 * 365 * 86400)
        users, memberships = [], []
        members_by_tenant: dict[str, list[str]] = {t: [] for t in self.departments + self.divisions}
        handlers_by_tenant: dict[str, list[str]] = {t: [] for t in self.departments + self.divisions}
        roles = _weighted(rng, ROLES, N_USERS)
        for i in range(N_USERS):
            uid = _uuid(rng)
            users.append(
                f"{password}\tgen-{i:05d}\tUser\t{i:05d}\tgen{i:05d}@bench.invalid\t{joined}\t{uid}\n"
            )
            role = roles[i]
            tenant = rng.choice(self.divisions) if role == "executive" else rng.choice(self.departments)
            memberships.append((uid, tenant, role))
            members_by_tenant[tenant].append(uid)
            if role in HANDLER_ROLES:
                handlers_by_tenant[tenant].append(uid)
        # The benchmark's named people.
        dept0 = self.departments[0]
        named = {}
        for username in (BENCH.handler, BENCH.executive, BENCH.manager):
            uid = _uuid(rng)
            named[username] = uid
            users.append(
                f"{password}\t{username}\tBench\t{username}\t{username}@bench.invalid\t{joined}\t{uid}\n"
            )
        memberships.append((named[BENCH.handler], dept0, "handler"))
        memberships.append((named[BENCH.manager], dept0, "manager"))
        # The executive oversees 50 tenants: two divisions (1 + 19 departments each) and 10 departments
        # of a third.
        memberships.append((named[BENCH.executive], self.divisions[0], "executive"))
        memberships.append((named[BENCH.executive], self.divisions[1], "executive"))
        third = [t for t in self.departments if self.division_of[t] == self.divisions[2]][:10]
        for t in third:
            memberships.append((named[BENCH.executive], t, "executive"))
        handlers_by_tenant[dept0].append(named[BENCH.handler])
        self.named = named
        self._copy(
            "accounts_user",
            [
                "password",
                "username",
                "first_name",
                "last_name",
                "email",
                "date_joined",
                "id",
                "last_login",
                "is_superuser",
                "is_staff",
                "is_active",
                "is_service_account",
            ],
            [u[:-1] + "\t\\N\tf\tf\tt\tf\n" for u in users],
        )
        self._copy(
            "tenancy_membership",
            ["id", "user_id", "tenant_id", "role", "created_at"],
            [f"{_uuid(rng)}\t{u}\t{t}\t{r}\t{joined}\n" for u, t, r in memberships],
        )
        all_users = [m[0] for m in memberships]
        for people in members_by_tenant.values():
            if not people:
                people.append(rng.choice(all_users))
        for t, people in handlers_by_tenant.items():
            if not people:
                people.extend(members_by_tenant[t][:1])
        self.members_by_tenant, self.handlers_by_tenant = members_by_tenant, handlers_by_tenant

    # ------------------------------------------------------------------ incidents and their children
    def _incidents(self) -> None:
        rng = self.rng
        span = 3 * 365 * 86400  # three years of history, denser recently
        self.counters: dict = {}
        self.grant_candidates: list = []  # (incident, tenant, restricted)
        done = 0
        while done < self.n:
            size = min(CHUNK, self.n - done)
            tenants = rng.choices(self.incident_tenants, weights=self.incident_weights, k=size)
            ages = sorted((span * rng.random() ** 1.6 for _ in range(size)), reverse=True)
            rows = []
            for tenant, age in zip(tenants, ages, strict=True):
                rows.append(self._incident_row(tenant, self.t_now - age))
            with transaction.atomic(using=OWNER):
                self._copy_incidents(rows)
                self._copy_reports_and_assessments(rows)
                self._copy_timeline(rows)
                self._copy_actions(rows)
                self._copy_evidence(rows)
                self._copy_obligations(rows)
                self._copy_reviews(rows)
            done += size
            self.log(f"  incidents {done}/{self.n}")

    def _next(self, tenant: str, kind: str, t: float) -> tuple[int, int]:
        year = datetime.fromtimestamp(t, UTC).year
        key = (tenant, kind, year)
        self.counters[key] = number = self.counters.get(key, 0) + 1
        return year, number

    def _incident_row(self, tenant: str, declared: float) -> dict:
        rng = self.rng
        age_days = (self.t_now - declared) / 86400
        if age_days < 30:
            status = _weighted(rng, STATUSES[1:], 1)[0] if rng.random() < 0.7 else "closed"
        else:
            status = "closed" if rng.random() < 0.95 else _weighted(rng, STATUSES, 1)[0]
        impact, urgency = rng.choice(LEVELS), rng.choice(LEVELS)
        handlers = self.handlers_by_tenant[tenant]
        year, number = self._next(tenant, "incident", declared)
        noun = rng.choice(NOUNS)
        return {
            "id": _uuid(rng),
            "tenant": tenant,
            "declared": declared,
            "status": status,
            "impact": impact,
            "urgency": urgency,
            "severity": MATRIX[impact][urgency],
            "restricted": rng.random() < 0.05,
            "pdb": rng.random() < 0.3,
            "owner": rng.choice(handlers),
            "reference": f"{self.prefix[tenant]}-{year}-{number:04d}",
            "title": f"{rng.choice(ADJECTIVES).capitalize()} {noun} on {rng.choice(SYSTEMS)}",
            "noun": noun,
        }

    def _copy_incidents(self, rows: list[dict]) -> None:
        self._start()
        rng = self.rng
        lines = []
        for r in rows:
            d = r["declared"]
            status = r["status"]
            order = ["declared", "investigating", "contained", "eradicated", "recovered", "closed"].index(
                status
            )
            contained = _ts(d + 3600 * rng.uniform(1, 48)) if order >= 2 else "\\N"
            recovered = _ts(d + 3600 * rng.uniform(48, 240)) if order >= 4 else "\\N"
            closed_t = d + 3600 * rng.uniform(240, 720)
            closed = _ts(closed_t) if order == 5 else "\\N"
            updated = _ts(min(closed_t, self.t_now) if order == 5 else d + 3600)
            r["closed"] = closed_t if order == 5 else None
            desc = (
                f"Reported {r['noun']} affecting {rng.choice(SYSTEMS)}; "
                f"{rng.choice(ADJECTIVES)} activity observed by {rng.choice(SYSTEMS)} monitoring."
            )
            regimes = "{gdpr}" if r["pdb"] else "{}"
            lines.append(
                f"{r['id']}\t{r['tenant']}\t{r['reference']}\t{r['title']}\t{desc}\t{status}\t{r['severity']}\t"
                f"{'t' if r['restricted'] else 'f'}\t{'t' if r['pdb'] else 'f'}\t\t{_ts(d)}\t{closed}\t"
                f"{_ts(d - 1800)}\t{_ts(d)}\t{updated}\t{r['owner']}\t"
                f"{rng.randint(1, 5000) if r['pdb'] else NULL}\t\t{rng.choice(self.categories)}\t"
                f"{'Resolved.' if order == 5 else ''}\t\tf\t{r['impact']}\t{regimes}\t{r['urgency']}\t"
                f"{contained}\t{recovered}\t{_ts(d - 3600)}\n"
            )
            if r["restricted"] or rng.random() < 0.15:
                self.grant_candidates.append((r["id"], r["tenant"], r["restricted"]))
        self._copy(
            "response_incident",
            [
                "id",
                "tenant_id",
                "reference",
                "title",
                "description",
                "status",
                "severity",
                "restricted",
                "personal_data_breach",
                "root_cause",
                "declared_at",
                "closed_at",
                "aware_at",
                "created_at",
                "updated_at",
                "owner_id",
                "affected_data_subjects",
                "affected_services",
                "category_id",
                "close_rationale",
                "escalated_severity",
                "false_alarm",
                "impact",
                "regimes",
                "urgency",
                "contained_at",
                "recovered_at",
                "discovered_at",
            ],
            lines,
        )

    def _copy_reports_and_assessments(self, rows: list[dict]) -> None:
        self._start()
        rng = self.rng
        reports, assessments = [], []
        for r in rows:
            tenant, d = r["tenant"], r["declared"]
            members = self.members_by_tenant[tenant]
            handlers = self.handlers_by_tenant[tenant]
            # The report that became the incident, then (every other incident) a report that did not.
            for became in (True, False):
                if not became and rng.random() < 0.5:
                    continue
                t = d - 3600 * rng.uniform(0.2, 4) if became else d + 86400 * rng.uniform(0, 20)
                if t > self.t_now:
                    continue
                rid = _uuid(rng)
                year, number = self._next(tenant, "report", t)
                triaged = became or rng.random() < 0.8
                reports.append(
                    f"{rid}\t{tenant}\t{self.prefix[tenant]}-R-{year}-{number:04d}\t"
                    f"{rng.choice(('event', 'weakness', 'malfunction'))}\t"
                    f"{r['title'] if became else 'Possible ' + r['noun']}\t"
                    f"Seen on {rng.choice(SYSTEMS)}.\t{_ts(t - 600)}\t{_ts(t - 300)}\t"
                    f"{'t' if rng.random() < 0.03 else 'f'}\t{'triaged' if triaged else 'new'}\t"
                    f"{rng.choice(members)}\t{rng.choice(('web', 'api', 'email', 'phone'))}\t"
                    f"{_ts(t)}\t{_ts(t + 60)}\t"
                    f"{r['id'] if became else NULL}\t{_ts(t)}\t{_ts(t + 3600)}\n"
                )
                if triaged:
                    decided = _ts(t + 1800)
                    if became:
                        decision, incident, opened = "incident", r["id"], "t"
                        cat, imp, urg, sev = (
                            rng.choice(self.categories),
                            r["impact"],
                            r["urgency"],
                            r["severity"],
                        )
                    else:
                        decision, incident, opened, cat, imp, urg, sev = (
                            "not_incident",
                            "\\N",
                            "f",
                            "\\N",
                            "",
                            "",
                            "",
                        )
                    assessments.append(
                        f"{_uuid(rng)}\t{tenant}\t{rid}\t{rng.choice(handlers)}\t{decided}\t{decision}\t{cat}\t"
                        f"{imp}\t{urg}\t{sev}\tTriaged by the handler on duty.\t{incident}\t{opened}\n"
                    )
        self._copy(
            "reporting_report",
            [
                "id",
                "tenant_id",
                "reference",
                "kind",
                "title",
                "description",
                "occurred_at",
                "detected_at",
                "confidential",
                "status",
                "reporter_id",
                "channel",
                "received_at",
                "acknowledged_at",
                "incident_id",
                "created_at",
                "updated_at",
            ],
            reports,
        )
        self._copy(
            "assessment_assessment",
            [
                "id",
                "tenant_id",
                "report_id",
                "decided_by_id",
                "decided_at",
                "decision",
                "category_id",
                "impact",
                "urgency",
                "severity",
                "rationale",
                "incident_id",
                "incident_opened",
            ],
            assessments,
        )

    def _copy_timeline(self, rows: list[dict]) -> None:
        self._start()
        rng = self.rng
        lines = []
        verbs = ("incident.declared", "incident.transitioned", "action.created", "evidence.added", "note")
        for r in rows:
            handlers = self.handlers_by_tenant[r["tenant"]]
            t = r["declared"]
            for k in range(rng.randint(3, 7)):
                t += 3600 * rng.uniform(0.1, 24)
                if t > self.t_now:
                    break
                actor = rng.choice(handlers)
                if k and rng.random() < 0.3:
                    kind, verb, direction, counterpart, channel = (
                        "communication",
                        "note",
                        "external",
                        "CSIRT",
                        "email",
                    )
                elif k and rng.random() < 0.3:
                    kind, verb, direction, counterpart, channel = "observation", "note", "", "", ""
                else:
                    kind, verb, direction, counterpart, channel = "automatic", verbs[min(k, 3)], "", "", ""
                lines.append(
                    f"{_uuid(rng)}\t{r['tenant']}\t{r['id']}\t{_ts(t)}\t{kind}\t{verb}\t{actor}\tgen\t"
                    f"{verb} ({r['noun']})\t{{}}\t{direction}\t{counterpart}\t{channel}\t{_ts(t)}\n"
                )
        self._copy(
            "response_timelineentry",
            [
                "id",
                "tenant_id",
                "incident_id",
                "at",
                "kind",
                "verb",
                "actor_id",
                "actor_repr",
                "summary",
                "data",
                "direction",
                "counterpart",
                "channel",
                "recorded_at",
            ],
            lines,
        )

    def _copy_actions(self, rows: list[dict]) -> None:
        self._start()
        rng = self.rng
        lines = []
        for r in rows:
            handlers = self.handlers_by_tenant[r["tenant"]]
            closed = r["status"] == "closed"
            for k in range(rng.randint(1, 3)):
                created = r["declared"] + 3600 * (k + 1)
                status = "done" if closed or rng.random() < 0.5 else "open"
                lines.append(
                    f"{_uuid(rng)}\t{r['tenant']}\t{r['id']}\t"
                    f"{('Contain', 'Reset credentials', 'Notify owner')[k]} "
                    f"({r['noun']})\t\t{rng.choice(handlers)}\t{_ts(created + 86400 * 3)}\t{status}\t"
                    f"{rng.choice(handlers)}\t{_ts(created + 86400) if status == 'done' else NULL}\t"
                    f"{_ts(created)}\t{_ts(created)}\n"
                )
        self._copy(
            "response_responseaction",
            [
                "id",
                "tenant_id",
                "incident_id",
                "title",
                "description",
                "assignee_id",
                "due_at",
                "status",
                "created_by_id",
                "completed_at",
                "created_at",
                "updated_at",
            ],
            lines,
        )

    def _copy_evidence(self, rows: list[dict]) -> None:
        self._start()
        rng = self.rng
        lines = []
        for r in rows:
            handlers = self.handlers_by_tenant[r["tenant"]]
            for k in range(rng.choice((0, 1, 1, 2))):
                eid = _uuid(rng)
                sha = hashlib.sha256(f"{self.seed}:{eid}".encode()).hexdigest()
                t = _ts(r["declared"] + 3600 * (k + 2))
                person = rng.choice(handlers)
                lines.append(
                    f"{eid}\t{r['tenant']}\t{r['id']}\t{sha}\t"
                    f"{rng.randint(1_000, 50_000_000)}\tsha256/{sha}\t"
                    f"{('auth', 'proxy', 'mail')[k % 3]}-{r['noun']}.log\ttext/plain\ttext/plain\t\t"
                    f"{rng.choice(('system', 'host', 'person'))}\t\tlog_export\t\t\t{t}\t\t"
                    f"{person}\t{person}\t{t}\t\t\t\n"
                )
        self._copy(
            "evidence_evidence",
            [
                "id",
                "tenant_id",
                "incident_id",
                "sha256",
                "size",
                "storage_key",
                "original_name",
                "declared_content_type",
                "detected_content_type",
                "description",
                "source",
                "source_detail",
                "method",
                "tool",
                "tool_version",
                "collected_at",
                "collected_where",
                "collected_by_id",
                "uploaded_by_id",
                "uploaded_at",
                "seal_number",
                "location",
                "correction_reason",
            ],
            lines,
        )

    def _copy_obligations(self, rows: list[dict]) -> None:
        self._start()
        rng = self.rng
        lines = []
        for r in rows:
            if not r["pdb"]:
                continue
            for step_id, regime, notice, recipient in self.steps[: rng.choice((1, 1, 2))]:
                started = r["declared"]
                due = started + 72 * 3600
                # Pending: those of open incidents and of incidents declared in the last PENDING_DAYS (final
                # and follow-up reports still owed; about a quarter of obligations, 100k at 1M incidents),
                # due from 5 days ago to PENDING_DUE_AHEAD_DAYS ahead, so only a few percent of them are due
                # for a reminder now; the rest were submitted in time.
                pending = r["status"] != "closed" or self.t_now - started < PENDING_DAYS * 86400
                if pending:
                    due = self.t_now + rng.uniform(-5 * 86400, PENDING_DUE_AHEAD_DAYS * 86400)
                    reminder = _ts(due - 12 * 3600)
                    status, submitted, by = "pending", "\\N", "\\N"
                else:
                    reminder = "\\N"
                    status, submitted, by = (
                        "submitted",
                        _ts(due - 3600),
                        rng.choice(self.handlers_by_tenant[r["tenant"]]),
                    )
                lines.append(
                    f"{_uuid(rng)}\t{r['tenant']}\t{r['id']}\t{regime}\t{step_id}\t{notice}\t{recipient}\t"
                    f"{_ts(started)}\t{_ts(due)}\t{status}\t{reminder}\t{submitted}\t{by}\t\t\t\t\t"
                    f"{_ts(started)}\t{_ts(started)}\n"
                )
        self._copy(
            "notifications_obligation",
            [
                "id",
                "tenant_id",
                "incident_id",
                "regime",
                "step_id",
                "notice",
                "recipient",
                "clock_started_at",
                "due_at",
                "status",
                "next_reminder_at",
                "submitted_at",
                "submitted_by_id",
                "submitted_to",
                "reference",
                "summary",
                "waived_rationale",
                "created_at",
                "updated_at",
            ],
            lines,
        )

    def _copy_reviews(self, rows: list[dict]) -> None:
        self._start()
        rng = self.rng
        lines = []
        for r in rows:
            if r["closed"] is None or r["severity"] not in ("P1", "P2"):
                continue
            t = r["closed"] - 3600
            manager = rng.choice(self.handlers_by_tenant[r["tenant"]])
            lines.append(
                f"{_uuid(rng)}\t{r['tenant']}\t{r['id']}\tcompleted\tSee timeline.\t{r['noun']}\t\t\t\t"
                f"Patch faster.\t{manager}\t{manager}\t{_ts(t)}\t{_ts(t - 86400)}\t{_ts(t)}\n"
            )
        self._copy(
            "reviews_review",
            [
                "id",
                "tenant_id",
                "incident_id",
                "status",
                "timeline_summary",
                "root_cause",
                "contributing_factors",
                "went_well",
                "went_badly",
                "lessons_learned",
                "created_by_id",
                "approved_by_id",
                "completed_at",
                "created_at",
                "updated_at",
            ],
            lines,
        )

    # ------------------------------------------------------------------ grants and counters
    def _grants(self) -> None:
        self._start()
        rng = self.rng
        target = self.grants if self.grants is not None else min(N_GRANTS, max(10, self.n // 5))
        seen: set = set()
        lines = []
        created = _ts(self.t_now - 86400)
        candidates = self.grant_candidates
        handler = self.named[BENCH.handler]
        dept0 = self.departments[0]
        # The bench handler is named on some need-to-know incidents of its tenant (the Exists path
        # returns rows).
        for incident, tenant, restricted in candidates:
            if tenant == dept0 and restricted and rng.random() < 0.5:
                seen.add((handler, self.perm_view, incident))
                lines.append(f"{incident}\t{tenant}\t{handler}\t{self.perm_view}\t\\N\t{created}\n")
        attempts = 0
        while len(lines) < target and candidates and attempts < target * 3:
            attempts += 1
            incident, tenant, _ = candidates[rng.randrange(len(candidates))]
            user = rng.choice(self.members_by_tenant[tenant])
            perm = self.perm_view if rng.random() < 0.8 else self.perm_change
            key = (user, perm, incident)
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"{incident}\t{tenant}\t{user}\t{perm}\t\\N\t{created}\n")
        self._copy(
            "response_incidentuserobjectpermission",
            ["content_object_id", "tenant_id", "user_id", "permission_id", "granted_by_id", "created_at"],
            lines,
        )

    def _counters(self) -> None:
        self._start()
        lines = [
            f"{tenant}\t{kind}\t{year}\t{last}\n" for (tenant, kind, year), last in self.counters.items()
        ]
        self._copy("tenancy_referencecounter", ["tenant_id", "kind", "year", "last"], lines)
