"""E-mail through a real SMTP server (issue 13, defect 11): aiosmtpd on 127.0.0.1, plain and with STARTTLS.
A notification e-mail arrives; a server Vigil cannot talk to leaves the message in the outbox with its
attempts and last error, shown where an administrator looks (the outbox admin, the admin index)."""

import datetime
import ipaddress
import ssl
from contextlib import contextmanager
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.db import transaction

from apps.notifications.choices import OutboxStatus
from apps.notifications.models import OutboxMessage
from apps.notifications.tasks import outbox_deliver
from config.celery import app as celery_app
from config.mail import smtp_security

HOST = "127.0.0.1"


class Sink:
    """An aiosmtpd handler keeping what it accepted."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope)
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(port: int, **smtp_parameters):
    sink = Sink()
    controller = Controller(sink, hostname=HOST, port=port, **smtp_parameters)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1: (server TLS context, path of the certificate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path


@pytest.fixture
def smtp_settings(settings):
    """Point Vigil's SMTP settings at 127.0.0.1:port, transport security as config/mail.py derives it from
    the port unless `use_tls` / `use_ssl` are given (as EMAIL_USE_TLS / EMAIL_USE_SSL would)."""

    def point(port: int, *, use_tls: bool | None = None, use_ssl: bool | None = None):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = HOST, port, 5
        settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = smtp_security(
            port=port, use_tls=use_tls, use_ssl=use_ssl
        )

    return point


@pytest.fixture
def escalate(api_client_for, make_member, tenant, django_capture_on_commit_callbacks, monkeypatch):
    """Declare a P1 incident through the API: its executive is told by e-mail. The delivery task runs
    in-process when the request commits, as a worker would run it (Celery eager)."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)

    def declare(email="exec@example.org"):
        manager = make_member("manager", tenant)
        make_member("executive", tenant, email=email)
        body = {"tenant": str(tenant.id), "title": "Ransomware", "impact": "critical", "urgency": "critical"}
        with django_capture_on_commit_callbacks(execute=True):
            response = api_client_for(manager).post("/api/v1/incidents/", body, format="json")
        assert response.status_code == 201, response.json()
        return OutboxMessage.objects.get(recipient=email)

    return declare


def test_an_escalation_email_arrives_at_a_plain_smtp_server(escalate, smtp_settings, unused_tcp_port):
    smtp_settings(unused_tcp_port)  # neither 465 nor 587: plain SMTP
    with smtp_server(unused_tcp_port) as sink:
        message = escalate()

    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.DELIVERED, 1, "")
    [envelope] = [e for e in sink.received if e.rcpt_tos == ["exec@example.org"]]
    received = message_from_bytes(envelope.content)
    assert received["Subject"].startswith("P1 incident")
    assert received["Message-ID"].startswith(f"<outbox.{message.pk}@")


def test_an_email_arrives_over_starttls(escalate, smtp_settings, unused_tcp_port, certificate, monkeypatch):
    server_context, cert_path = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))  # the private CA an installation would trust
    smtp_settings(unused_tcp_port, use_tls=True)
    with smtp_server(unused_tcp_port, tls_context=server_context, require_starttls=True) as sink:
        message = escalate()

    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED, message.last_error
    assert ["exec@example.org"] in [envelope.rcpt_tos for envelope in sink.received]


def test_starttls_to_a_plain_server_fails_visibly_in_the_outbox_admin(
    escalate, smtp_settings, unused_tcp_port, verified_client_for, superuser
):
    # The defect: EMAIL_USE_TLS on against a server that offers no STARTTLS.
    smtp_settings(unused_tcp_port, use_tls=True)
    with smtp_server(unused_tcp_port) as sink:
        message = escalate()

    assert sink.received == []
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert message.last_error == "SMTPNotSupportedError: STARTTLS extension not supported by server."

    admin = verified_client_for(superuser)
    page = admin.get("/admin/notifications/outboxmessage/", {"delivery": "failing"})
    assert page.status_code == 200
    assert "exec@example.org" in page.text
    assert "SMTPNotSupportedError: STARTTLS extension not supported by server." in page.text
    assert admin.get("/admin/notifications/outboxmessage/", {"delivery": "dead"}).text.count("exec@") == 0


def test_an_untrusted_certificate_is_a_recorded_failure(
    escalate, smtp_settings, unused_tcp_port, certificate
):
    server_context, _ = certificate
    smtp_settings(unused_tcp_port, use_tls=True)
    with smtp_server(unused_tcp_port, tls_context=server_context, require_starttls=True) as sink:
        message = escalate()

    assert sink.received == []
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.last_error.startswith("SSLCertVerificationError: ")


def test_a_refused_connection_ends_given_up_and_the_admin_index_says_so(
    escalate, smtp_settings, unused_tcp_port, settings, verified_client_for, superuser, tenant, make_member
):
    settings.OUTBOX_EMAIL_MAX_ATTEMPTS = 2
    smtp_settings(unused_tcp_port)  # nobody listens there
    message = escalate()
    with transaction.atomic():
        outbox_deliver(str(message.pk))  # the relay's retry

    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.DEAD, 2)
    assert message.last_error.startswith("ConnectionRefusedError: ")

    admin = verified_client_for(superuser)
    assert "exec@example.org" in admin.get("/admin/notifications/outboxmessage/", {"delivery": "dead"}).text
    index = admin.get("/admin/")
    assert index.status_code == 200
    assert 'data-testid="outbox-problems"' in index.text
    assert "1 failing (retried), 1 given up." in index.text  # the manager's e-mail waits for its retry
    assert "ConnectionRefusedError" in index.text

    # The outbox holds every tenant's messages: a tenant's own administrators see neither.
    tenant_admin = verified_client_for(make_member("tenant_admin", tenant))
    assert 'data-testid="outbox-problems"' not in tenant_admin.get("/admin/").text
    assert tenant_admin.get("/admin/notifications/outboxmessage/").status_code == 403
