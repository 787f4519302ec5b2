"""`make run` end to end: `python -m config.devstack run` with nothing configured.

Starts the embedded PostgreSQL and Redis in a temporary VAR_DIR, migrates, seeds, serves
web + Celery worker + beat, answers /healthz and /readyz, and on Ctrl-C (SIGINT) stops every
child and both embedded servers and exits 0.
"""

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil

REPO_DIR = Path(__file__).resolve().parents[2]
READY_MARKER = "Vigil ready at http://127.0.0.1:"
READY_TIMEOUT = 180  # first start: initdb, all migrations, collectstatic, demo data
STOP_TIMEOUT = 30

# Configuration the command must do without (the suite itself runs with some of it set).
UNSET = {
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "PORT",
    "VAR_DIR",
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status


def test_run_serves_until_interrupted_then_stops_everything(tmp_path):
    var_dir = tmp_path / "var"
    port = _free_port()
    env = {name: value for name, value in os.environ.items() if name not in UNSET}
    env.update(VAR_DIR=str(var_dir), PORT=str(port), PYTHONUNBUFFERED="1")
    stderr_path = tmp_path / "devstack.stderr"

    def stderr_tail() -> str:
        return stderr_path.read_text(errors="replace")[-6000:]

    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "config.devstack", "run"],
            cwd=REPO_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    descendants: list[psutil.Process] = []
    try:
        # 1. Wait for the one ready line.
        deadline = time.monotonic() + READY_TIMEOUT
        stdout: list[str] = []
        while not any(READY_MARKER in line for line in stdout):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no ready line after {READY_TIMEOUT}s\n{''.join(stdout)}\n{stderr_tail()}"
            try:
                line = lines.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                continue
            assert line is not None, (
                f"devstack exited ({proc.wait()}) before it was ready\n{''.join(stdout)}\n{stderr_tail()}"
            )
            stdout.append(line)
        assert f"{READY_MARKER}{port}" in stdout[-1]

        # 2. It serves.
        assert _get(f"http://127.0.0.1:{port}/healthz") == 200
        assert _get(f"http://127.0.0.1:{port}/readyz") == 200

        # Web server (+ its workers), Celery worker (+ pool), beat and Redis run under devstack;
        # PostgreSQL is detached by pg_ctl and checked through its pid file below.
        descendants = psutil.Process(proc.pid).children(recursive=True)
        assert len(descendants) >= 4, descendants
        postmaster_pid = var_dir / "postgres" / "postmaster.pid"
        assert postmaster_pid.exists()

        # 3. Ctrl-C stops everything and exits 0.
        proc.send_signal(signal.SIGINT)
        try:
            returncode = proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running {STOP_TIMEOUT}s after SIGINT\n{stderr_tail()}") from None
        assert returncode == 0, stderr_tail()
        _, alive = psutil.wait_procs(descendants, timeout=5)
        assert not alive, f"left running: {alive}"
        assert not postmaster_pid.exists(), "embedded PostgreSQL still running"
    finally:
        if proc.poll() is None:  # a failed assertion above: still let devstack clean up
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for child in descendants:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
