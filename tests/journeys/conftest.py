"""The journey suite: Vigil as its users and integrators meet it, read from what they receive.

One stack per test session, all real and all in their own processes, so that nothing of the test suite's
(its cross-tenant widening, its in-process clients) reaches the app's code:

- `vigil`: gunicorn serving `config.wsgi` (production settings, DEBUG off) against the test database, and a
  Celery worker on a throwaway Redis broker, both with `SITE_URL` = the server's address;
- `vigil.smtp`: an aiosmtpd SMTP server on 127.0.0.1 that the worker delivers e-mail to (plain SMTP, port
  given explicitly); messages are parsed with the standard library's `email` (policy `default`);
- `webhook_receiver`: a real HTTP receiver (tests/notifications/receiver.py) checking Vigil's signatures.

Tests are transactional (`pytestmark = pytest.mark.django_db(transaction=True)`): data made with the
factories is committed, so the server and the worker see it. Each test starts with an empty mailbox.
`vigil.token(user)` gives an API token; `vigil.get/post/...` are `requests` calls against the server;
`vigil.run_task(name, **kwargs)` sends a task through the broker to the worker (a scanner beat would run);
`vigil.smtp.wait_for(count=1, to=...)` waits for e-mails to arrive.
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
import requests
from aiosmtpd.controller import Controller
from django.db import transaction

from apps.tenancy.services import token_create
from config.celery import app as celery_app
from tests.integration.conftest import _test_database_url, start_celery_worker
from tests.integration.faults import Gunicorn, ThrowawayRedis, app_env, free_port
from tests.notifications.receiver import WebhookReceiver

# The worker's queue, named whatever another suite made the default queue of this process.
JOURNEY_QUEUE = "celery"
WEBHOOK_SECRET = "journey-webhook-secret-0123456789"


@dataclass
class SmtpSink:
    """What a mail server received: each message with its envelope."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.envelopes.clear()

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [
                m for m, (_, rcpts) in zip(self.messages, self.envelopes, strict=True) if address in rcpts
            ]

    def wait_for(self, *, count: int = 1, to: str | None = None, timeout: float = 60) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(to) if to else list(self.messages)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(
            f"{count} e-mail(s) to {to or 'anyone'} expected, got {len(found)} in {timeout} s"
        )


@dataclass
class Vigil:
    url: str
    smtp: SmtpSink
    server: Gunicorn
    worker_log: object
    broker_url: str
    session: requests.Session = field(default_factory=requests.Session)

    def token(self, user, *, tenant=None, role: str = "") -> str:
        with transaction.atomic():
            _, key = token_create(actor=user, user=user, name="journey", tenant=tenant, role=role)
        return key

    def request(self, method: str, path: str, *, token: str | None = None, **kwargs) -> requests.Response:
        headers = {**kwargs.pop("headers", {})}
        if token:
            headers["Authorization"] = f"Token {token}"
        return self.session.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def run_task(self, name: str, **kwargs) -> None:
        """Send a task by name through the broker to the worker, as beat sends the scanners (on a connection
        of its own: the rest of the suite's tasks never reach this worker)."""
        with celery_app.connection_for_write(self.broker_url) as connection:
            celery_app.send_task(name, kwargs=kwargs, connection=connection, queue=JOURNEY_QUEUE)


@pytest.fixture(scope="session")
def _journey_broker(tmp_path_factory):
    redis = ThrowawayRedis(tmp_path_factory.mktemp("journey-redis"))
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture(scope="session")
def _smtp_sink():
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


@pytest.fixture(scope="session")
def _vigil_stack(django_db_setup, django_db_blocker, _journey_broker, _smtp_sink, tmp_path_factory):
    sink, smtp_port = _smtp_sink
    logs = tmp_path_factory.mktemp("journey-logs")
    port = free_port()
    settings_env = {
        "SITE_URL": f"http://127.0.0.1:{port}",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "0",
        "EMAIL_USE_SSL": "0",
        "DEFAULT_FROM_EMAIL": "Vigil <vigil@journeys.example>",
        "WEBHOOK_ALLOW_HTTP_LOCALHOST": "1",
    }
    env = app_env(database_url=_test_database_url(), redis_url=_journey_broker.url, **settings_env)
    worker = start_celery_worker(
        JOURNEY_QUEUE,
        logs / "worker.log",
        REDIS_URL=_journey_broker.url,
        CELERY_BROKER_URL=_journey_broker.url,
        **settings_env,
    )
    server = Gunicorn(env, logs / "gunicorn.log", port=port)
    yield Vigil(
        url=server.base,
        smtp=sink,
        server=server,
        worker_log=logs / "worker.log",
        broker_url=_journey_broker.url,
    )
    server.stop()
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except Exception:
        worker.kill()


@pytest.fixture
def vigil(_vigil_stack, transactional_db):
    _vigil_stack.smtp.clear()
    return _vigil_stack


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver(secret=WEBHOOK_SECRET).start()
    yield receiver
    receiver.stop()
