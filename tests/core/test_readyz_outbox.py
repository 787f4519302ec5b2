"""/readyz tells how outbound delivery goes (issue 13, defect 11) without failing readiness over it: an SMTP
server that refuses Vigil is no reason for a load balancer to stop sending requests to this process."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from apps.notifications.delivery import outbox_deliver
from apps.notifications.messaging import outbox_enqueue
from apps.notifications.models import OutboxMessage

HEALTHY = {"degraded": False, "overdue": 0, "failing": 0, "dead": 0, "last_error_class": None}


@pytest.fixture
def refusing_smtp(settings, unused_tcp_port):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", unused_tcp_port  # nobody listens there
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False


def _email(recipient="someone@example.org"):
    with transaction.atomic():
        return outbox_enqueue(channel="email", recipient=recipient, subject="Deadline", body="Due in 24 h")


def _outbox():
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ready"
    return response.json()["details"]["outbox"]


def test_an_idle_outbox_is_healthy(db):
    assert _outbox() == HEALTHY


def test_a_failing_email_degrades_the_outbox_but_not_readiness(db, refusing_smtp):
    message = _email(recipient="ana@example.org")
    assert outbox_deliver(message_id=message.pk).status == "retry"

    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["details"]["outbox"] == {
        **HEALTHY,
        "degraded": True,
        "failing": 1,
        "last_error_class": "ConnectionRefusedError",
    }
    # Anyone may ask /readyz: the class of the error only, never its text or the recipient.
    assert b"ana@example.org" not in response.content
    assert b"Connection refused" not in response.content


def test_messages_nobody_delivers_are_overdue(db, settings):
    settings.OUTBOX_RELAY_LEASE_SECONDS = 300
    late, recent = _email(), _email()
    now = timezone.now()
    OutboxMessage.objects.filter(pk=late.pk).update(next_attempt_at=now - timedelta(minutes=6))
    OutboxMessage.objects.filter(pk=recent.pk).update(next_attempt_at=now - timedelta(minutes=4))
    assert _outbox() == {**HEALTHY, "degraded": True, "overdue": 1}


def test_given_up_messages_are_counted_without_degrading(db, settings, refusing_smtp):
    settings.OUTBOX_EMAIL_MAX_ATTEMPTS = 1
    message = _email()
    assert outbox_deliver(message_id=message.pk).status == "dead"
    assert _outbox() == {**HEALTHY, "dead": 1, "last_error_class": "ConnectionRefusedError"}
