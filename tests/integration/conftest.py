"""A real Celery worker process on the real broker, against the test database."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connections

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def _test_database_url() -> str:
    """The test database as its owner: what DATABASE_URL is for a worker (it derives the runtime roles)."""
    db = connections["owner"].settings_dict
    # A unix-socket URL (the embedded PostgreSQL) leaves HOST empty and puts the socket in OPTIONS.
    host = db.get("HOST") or db.get("OPTIONS", {}).get("host") or ""
    credentials = f"{quote(db.get('USER') or '')}:{quote(db.get('PASSWORD') or '')}"
    if host.startswith("/"):  # unix socket (the embedded PostgreSQL)
        return f"postgresql://{credentials}@/{db['NAME']}?host={quote(host)}"
    return f"postgresql://{credentials}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


def start_celery_worker(queue: str, log: Path, *, name: str = "", **extra_env: str) -> subprocess.Popen:
    """A worker subprocess on `queue`, against the test database; `extra_env` overrides settings (e.g.
    CELERY_BROKER_URL for a throwaway broker); `name` tells two workers of one test apart. Returns once
    the worker says it is ready."""
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "CONN_MAX_AGE": "0",
        # Production settings derive the links in e-mails from ALLOWED_HOSTS, which a worker alone lacks.
        "SITE_URL": "http://127.0.0.1:8000",
        **extra_env,
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "-Q",
                queue,
                "--loglevel=INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                *(("-n", f"{name}@%h") if name else ()),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"Celery worker did not start:\n{log.read_text()}")
        time.sleep(0.2)
    return process


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """Started once per session; each test's tasks reach it through the broker like production's."""
    queue = f"vigil-test-{os.getpid()}"
    process = start_celery_worker(queue, tmp_path_factory.mktemp("celery") / "worker.log")
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    yield process
    celery_app.conf.task_default_queue = previous
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def pytest_terminal_summary(terminalreporter):
    """The fault tests' figures (tests/integration/faults.py): faults injected, requests, rows, messages
    delivered and lost, errors; `make chaos` ends with them."""
    from tests.integration.faults import summary_lines

    lines = summary_lines()
    if lines:
        terminalreporter.section("faults survived")
        for line in lines:
            terminalreporter.write_line(line)
