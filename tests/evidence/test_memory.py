"""A large upload streams to disk: the web process does not grow with the file.

A real HTTP request to a live server (pytest-django `live_server`, in this process), the body sent in
1 MiB chunks by http.client from a file on disk (WSGI needs a Content-Length, so the body is streamed with
one rather than with chunked transfer-encoding). The process' resident memory is sampled from /proc
while the upload runs. Measured: a 250 MiB upload → peak growth of 4.8 MiB (limit asserted: 50 MiB).
"""

import hashlib
import http.client
import os
import threading
import time
import uuid

import pytest
from django.db import transaction

from apps.evidence.models import Evidence
from apps.tenancy.roles import RoleId
from apps.tenancy.services import token_create
from tests.factories import IncidentFactory, MembershipFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SIZE = 250 * 1024 * 1024
LIMIT = 50 * 1024 * 1024


def _rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class _Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak = _rss()
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(0.005)


def test_a_large_upload_does_not_grow_the_process(live_server, tmp_path):
    tenant = TenantFactory()
    user = UserFactory()
    MembershipFactory(user=user, tenant=tenant, role=RoleId.HANDLER)
    incident = IncidentFactory(tenant=tenant)
    with transaction.atomic():
        _, key = token_create(actor=user, user=user, name="upload", tenant=None, role="")

    source = tmp_path / "memory.raw"
    digest = hashlib.sha256()
    block = os.urandom(1024 * 1024)
    with source.open("wb") as out:
        for n in range(SIZE // len(block)):
            chunk = block[:-8] + n.to_bytes(8, "big")
            digest.update(chunk)
            out.write(chunk)

    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="incident"\r\n\r\n{incident.pk}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="method"\r\n\r\nmemory_dump\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="memory.raw"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body():
        yield head
        with source.open("rb") as file:
            while chunk := file.read(1024 * 1024):
                yield chunk
        yield tail

    host, port = live_server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=300)
    sampler = _Sampler()
    baseline = _rss()
    sampler.start()
    try:
        connection.request(
            "POST",
            "/api/v1/evidence/",
            body=body(),
            headers={
                "Authorization": f"Token {key}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(len(head) + SIZE + len(tail)),
            },
        )
        response = connection.getresponse()
        payload = response.read()
    finally:
        sampler.done.set()
        sampler.join()
        connection.close()

    assert response.status == 201, payload[:500]
    growth = sampler.peak - baseline
    print(f"\nupload of {SIZE / 2**20:.0f} MiB: peak RSS growth {growth / 2**20:.1f} MiB")  # noqa: T201
    assert growth < LIMIT, (
        f"the process grew by {growth / 2**20:.1f} MiB during a {SIZE / 2**20:.0f} MiB upload"
    )
    item = Evidence.unscoped.get()
    assert (item.sha256, item.size) == (digest.hexdigest(), SIZE)
