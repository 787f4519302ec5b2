"""Webhooks reach public addresses only (issue 14; apps/notifications/addresses.py).

`https://[::127.0.0.1]/` passed the global-address check: every IPv6 form that embeds an IPv4 address is
refused (mapped, compatible, NAT64, Teredo; 6to4 of a non-public address), for the subscription's URL and
for each delivery. A delivery resolves the host once, checks what it got, and connects to that address with
the URL's host in the Host header and the TLS server name: a DNS answer that changes between the check and
the connection (rebinding) changes nothing. With real resolution (`localhost`) and a real local receiver.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.utils import timezone

from apps.notifications.addresses import refusal, resolve_destination
from apps.notifications.choices import OutboxChannel
from apps.notifications.delivery import outbox_deliver
from apps.notifications.models import OutboxMessage, WebhookDelivery, WebhookSubscription
from tests.notifications.receiver import WebhookReceiver

SECRET = "whsec_test-secret-0123456789abcdef"

REFUSED = {
    # The address, and the other IPv6 forms that carry an IPv4 address.
    "::127.0.0.1": "IPv4-compatible",
    "::8.8.8.8": "IPv4-compatible",  # whatever it embeds
    "::ffff:127.0.0.1": "IPv4-mapped",
    "::ffff:10.0.0.1": "IPv4-mapped",
    "::ffff:8.8.8.8": "IPv4-mapped",
    "64:ff9b::7f00:1": "NAT64",
    "64:ff9b::808:808": "NAT64",
    "64:ff9b:1::a00:1": "NAT64",
    "2002:7f00:1::1": "6to4",
    "2002:a00:1::1": "6to4",
    "2002:a9fe:a9fe::1": "6to4",  # 169.254.169.254, the cloud metadata service
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "Teredo",
    "2001::1": "Teredo",
    # Plain non-public addresses, both families.
    "127.0.0.1": "non-public",
    "10.1.2.3": "non-public",
    "172.16.0.1": "non-public",
    "192.168.1.1": "non-public",
    "169.254.169.254": "non-public",
    "100.64.0.1": "non-public",
    "0.0.0.0": "non-public",  # noqa: S104 - an address refused, not one bound to
    "192.0.2.10": "non-public",
    "198.18.0.1": "non-public",
    "255.255.255.255": "non-public",
    "::": "non-public",
    "::1": "non-public",
    "fe80::1": "non-public",
    "fc00::1": "non-public",
    "fd12:3456::1": "non-public",
    "2001:db8::1": "non-public",
    "224.0.0.251": "multicast",
    "ff02::1": "multicast",
    "ff0e::1": "multicast",
}
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:82b::200e", "2002:808:808::1"]


@pytest.mark.parametrize(("text", "kind"), sorted(REFUSED.items()))
def test_every_non_public_form_is_refused(text, kind):
    assert kind in refusal(ipaddress.ip_address(text))


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_pass(text):
    assert refusal(ipaddress.ip_address(text)) == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "https://[::127.0.0.1]/hook",  # the URL
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:7f00:1]:8443/hook",
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",
        "https://[2002:c0a8:101::1]/hook",
        "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",
    ],
)
def test_a_subscription_to_an_embedded_ipv4_form_is_400(url, tenant, make_member, api_client_for):
    client = api_client_for(make_member("tenant_admin", tenant))

    response = client.post(
        "/api/v1/webhooks/",
        {"tenant": str(tenant.pk), "url": url, "events": ["report.created"]},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["url"]
    assert "private, loopback or reserved" in response.json()["url"][0]
    assert not WebhookSubscription.unscoped.filter(tenant=tenant).exists()


# Deliveries, with real resolution and a real receiver


@pytest.fixture
def receiver():
    server = WebhookReceiver(secret=SECRET).start()
    yield server
    server.stop()


def deliver_to(tenant, url: str) -> WebhookDelivery:
    """A subscription to `url` (stored as is: its name may resolve elsewhere by the time it is used) and
    one message to it, delivered once; returns the attempt's log entry."""
    subscription = WebhookSubscription.unscoped.create(
        tenant=tenant, url=url, events=["report.created"], secret=SECRET, active=True
    )
    message = OutboxMessage.objects.create(
        tenant=tenant,
        channel=OutboxChannel.WEBHOOK,
        recipient=url,
        payload={
            "subscription": str(subscription.pk),
            "event": {
                "type": "report.created",
                "created_at": timezone.now().isoformat(),
                "tenant": str(tenant.pk),
                "data": {},
            },
        },
    )
    outbox_deliver(message_id=message.pk)
    return WebhookDelivery.unscoped.get(subscription=subscription)


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["localhost", "[::ffff:127.0.0.1]", "[::127.0.0.1]", "127.0.0.1"])
def test_a_delivery_to_this_machine_is_refused_in_production(host, tenant, receiver, settings):
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = False
    port = receiver.server.server_address[1]

    logged = deliver_to(tenant, f"https://{host}:{port}/hooks/vigil")

    assert logged.ok is False
    assert logged.error.startswith(f"Refused: {host.strip('[]')} resolves to ")
    assert receiver.received == []


class RebindingResolver:
    """The DNS edge: `rebind.example` first answers a public address, then this machine — a rebinding
    attack. Every other name is resolved for real. Counts the questions asked about `rebind.example`."""

    def __init__(self, real):
        self.real = real
        self.asked = 0

    def __call__(self, host, port, *args, **kwargs):
        if host != "rebind.example":
            return self.real(host, port, *args, **kwargs)
        self.asked += 1
        address = "8.8.8.8" if self.asked == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port or 0))]


@pytest.mark.django_db
def test_the_address_checked_is_the_address_connected_to(tenant, receiver, settings, monkeypatch):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    resolver = RebindingResolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    connected = []

    def recording_connect(address, *args, **kwargs):
        connected.append(address)
        raise OSError("test: no connection beyond this machine")

    monkeypatch.setattr(socket, "create_connection", recording_connect)
    port = receiver.server.server_address[1]

    logged = deliver_to(tenant, f"https://rebind.example:{port}/hooks/vigil")

    assert resolver.asked == 1, "resolved once: no second answer to rebind to"
    assert connected == [("8.8.8.8", port)], "connected to the address that was checked, by address"
    assert logged.ok is False
    assert receiver.received == []


# TLS through the pinned address: the certificate is checked against the URL's host name.


def _certificate(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    """An HTTPS receiver on 127.0.0.1 with a certificate for `localhost` only, trusted by the process
    (SSL_CERT_FILE, as the README tells for a private authority); records the SNI and Host it saw."""
    cert_file, key_file = _certificate(tmp_path)
    seen = {"sni": [], "host": []}
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen["host"].append(self.headers.get("Host"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_https_through_the_checked_address_keeps_the_host_name(tenant, tls_receiver, settings):
    """Local https (allowed in development and tests): the connection goes to the address `localhost`
    resolved to, the TLS server name and the Host header are `localhost`, the certificate is verified."""
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = True
    port, seen = tls_receiver
    assert resolve_destination("localhost", port, allow_loopback=True)

    logged = deliver_to(tenant, f"https://localhost:{port}/hooks/vigil")

    assert (logged.ok, logged.status_code, logged.error) == (True, 204, "")
    assert seen["sni"] == ["localhost"]
    assert seen["host"] == [f"localhost:{port}"]


@pytest.mark.django_db
def test_a_certificate_for_another_name_fails_the_delivery(tenant, tls_receiver, settings):
    """By address, the certificate (issued to `localhost`) does not match: verification still applies."""
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = True
    port, seen = tls_receiver

    logged = deliver_to(tenant, f"https://127.0.0.1:{port}/hooks/vigil")

    assert logged.ok is False
    assert "SSLCertVerificationError" in logged.error or "certificate" in logged.error.lower()
    assert seen["host"] == []
