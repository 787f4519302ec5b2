"""Request bodies are capped per endpoint before they are read or spooled (apps/core/body_limits.py).

Over real HTTP (gunicorn serving config.wsgi, as in production): a 100 MB anonymous sign-in POST answers 413
before its body is sent, and nothing lands in the server's temp dir or spool dir; a legitimate evidence upload
above the default cap is stored. In process: the JSON and page answers, the marked upload endpoints, and the
ASGI layer, which caps a chunked body while it arrives.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import uuid
from pathlib import Path

import pytest
import requests
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from apps.evidence.models import Evidence
from apps.tenancy.services import token_create
from tests.factories import IncidentFactory, MembershipFactory, TenantFactory, UserFactory
from tests.integration.conftest import _test_database_url
from tests.integration.faults import Gunicorn, app_env

MiB = 1024 * 1024
BOUNDARY = "vigil-body-limit-boundary"
# A well-formed CSRF cookie: Django's check then reads the form for its token (it answers 403 at once
# without one), so an uncapped body would be read and spooled.
CSRF_COOKIE = "csrftoken=" + "a" * 32


def multipart_head(total: int) -> tuple[bytes, bytes]:
    """The start and the end of a multipart body whose single file part makes it `total` bytes long."""
    start = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    end = f"\r\n--{BOUNDARY}--\r\n".encode()
    return start, end


def raw_post(port: int, path: str, *, length: int, send_bytes: int) -> tuple[int, dict, bytes]:
    """POST declaring `length` bytes of multipart but sending only `send_bytes` of them, then read the answer
    (a server that waits for the body before answering times out here)."""
    start, _ = multipart_head(length)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {length}\r\nCookie: {CSRF_COOKIE}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(head + start + b"\x00" * (send_bytes - len(start)))
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:
            pytest.fail(f"no answer within 15 s: the server waited for the {length}-byte body")
    status_line, _, rest = answer.partition(b"\r\n")
    header_block, _, body = rest.partition(b"\r\n\r\n")
    headers = dict(line.decode().split(": ", 1) for line in header_block.split(b"\r\n") if b": " in line)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


def spooled(*dirs: Path) -> list[str]:
    return sorted(str(p) for d in dirs for p in d.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    """gunicorn with its own temp dir (TMPDIR: where Django spools uploads by default) and spool dir."""
    root = tmp_path_factory.mktemp("body-limits")
    dirs = {name: root / name for name in ("tmp", "uploads", "var")}
    for path in dirs.values():
        path.mkdir()
    env = app_env(
        database_url=_test_database_url(),
        redis_url=settings.REDIS_URL,
        TMPDIR=str(dirs["tmp"]),
        EVIDENCE_UPLOAD_TEMP_DIR=str(dirs["uploads"]),
        VAR_DIR=str(dirs["var"]),
    )
    env.pop("REQUEST_BODY_MAX_BYTES", None)
    gunicorn = Gunicorn(env, root / "gunicorn.log", workers=1, threads=2)
    yield gunicorn, dirs
    gunicorn.stop()


HUNDRED_MB = 100 * 1000 * 1000


@pytest.mark.parametrize("path", ["/sign-in/", "/api/v1/auth/token/", "/api/v1/reports/"])
def test_a_100_mb_anonymous_post_answers_413_before_its_body_is_read(server, path):
    gunicorn, dirs = server
    before = spooled(dirs["tmp"], dirs["uploads"])

    status, headers, body = raw_post(gunicorn.port, path, length=HUNDRED_MB, send_bytes=MiB)

    assert status == 413, body[:500]
    assert spooled(dirs["tmp"], dirs["uploads"]) == before == []
    if path.startswith("/api/"):
        answer = json.loads(body)
        assert answer["code"] == "request_too_large"
        assert answer["limit"] == 1024 * 1024
        assert "1048576-byte limit" in answer["detail"]
    else:
        assert headers["content-type"].startswith("text/html")
        assert b"Request too large" in body


def test_a_chunked_100_mb_sign_in_post_is_never_spooled(server):
    """No Content-Length: Django's WSGI request reads none of the body; nothing lands on disk, no 5xx."""
    gunicorn, dirs = server
    start, end = multipart_head(0)
    seen_during = []

    def chunks():
        yield start
        block = b"\x00" * MiB
        for index in range(100):
            if index == 50:
                seen_during.extend(spooled(dirs["tmp"], dirs["uploads"]))
            yield block
        yield end

    try:
        response = requests.post(
            f"{gunicorn.base}/sign-in/",
            data=chunks(),
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
            timeout=60,
        )
    except requests.ConnectionError:
        response = None  # the server answered and closed before the client finished sending
    assert seen_during == []
    assert spooled(dirs["tmp"], dirs["uploads"]) == []
    if response is not None:
        assert response.status_code < 500


def test_a_file_part_within_the_cap_never_touches_the_temp_dir(server):
    """Under the 1 MiB cap, a file sent to an endpoint that takes no upload is held in memory while the
    body is read: checked while the server is still waiting for the rest of it."""
    gunicorn, dirs = server
    start, end = multipart_head(0)
    length = 1000 * 1000
    head = (
        f"POST /sign-in/ HTTP/1.1\r\nHost: 127.0.0.1:{gunicorn.port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {length}\r\nCookie: {CSRF_COOKIE}\r\nConnection: close\r\n\r\n"
    ).encode()
    filler = length - len(start) - len(end)
    with socket.create_connection(("127.0.0.1", gunicorn.port), timeout=15) as sock:
        sock.sendall(head + start + b"\x00" * (filler - 1000))
        time.sleep(0.5)  # the server has read (and would have spooled) what was sent
        during = spooled(dirs["tmp"], dirs["uploads"])
        sock.sendall(b"\x00" * 1000 + end)
        status_line = sock.recv(65536).split(b"\r\n", 1)[0]

    assert during == []
    assert int(status_line.split()[1]) < 500


@pytest.mark.django_db(transaction=True)
def test_an_evidence_upload_above_the_default_cap_is_stored_over_http(server):
    gunicorn, dirs = server
    tenant = TenantFactory()
    handler = UserFactory()
    MembershipFactory(user=handler, tenant=tenant, role="handler")
    incident = IncidentFactory(tenant=tenant)
    with transaction.atomic():
        _, key = token_create(actor=handler, user=handler, name="upload", tenant=None, role="")
    content = os.urandom(3 * MiB)

    response = requests.post(
        f"{gunicorn.base}/api/v1/evidence/",
        headers={"Authorization": f"Token {key}"},
        data={"incident": str(incident.pk), "description": "Memory image"},
        files={"file": ("memory.bin", content, "application/octet-stream")},
        timeout=60,
    )

    assert response.status_code == 201, response.text[:500]
    assert response.json()["size"] == len(content)
    assert Evidence.unscoped.filter(pk=response.json()["id"]).exists()
    assert spooled(dirs["tmp"], dirs["uploads"]) == [], "the spooled file was moved into the storage"


# In process (the test client sends Content-Length as servers do).


@pytest.mark.django_db
def test_a_json_body_over_the_default_cap_is_413_naming_the_limit(api_client_for, make_member, tenant):
    client = api_client_for(make_member("reporter", tenant))
    body = {"tenant": str(tenant.pk), "kind": "event", "title": "x", "description": "y" * (MiB + 10)}

    response = client.post("/api/v1/reports/", body, format="json")

    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is larger than the 1048576-byte limit of this endpoint.",
        "code": "request_too_large",
        "limit": MiB,
    }


@pytest.mark.django_db
def test_the_default_cap_is_configurable(api_client_for, make_member, tenant, settings):
    settings.REQUEST_BODY_MAX_BYTES = 2 * MiB
    client = api_client_for(make_member("reporter", tenant))
    body = {"tenant": str(tenant.pk), "kind": "event", "title": "Big", "description": "y" * (MiB + 10)}

    response = client.post("/api/v1/reports/", body, format="json")

    assert response.status_code != 413
    assert response.status_code < 500


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["evidence", "copy"])
def test_the_upload_endpoints_take_more_than_the_default_cap(endpoint, api_client_for, make_member, tenant):
    """Evidence and a notice's copy: their own limit (EVIDENCE_MAX_BYTES), not the 1 MiB default."""
    user = make_member("manager", tenant)
    client = api_client_for(user)
    content = SimpleUploadedFile("big.bin", os.urandom(2 * MiB), content_type="application/octet-stream")
    if endpoint == "evidence":
        incident = IncidentFactory(tenant=tenant)
        response = client.post(
            "/api/v1/evidence/", {"incident": str(incident.pk), "file": content}, format="multipart"
        )
        assert response.status_code == 201, response.content[:300]
    else:
        # The submit action of an unknown obligation: past the body cap (413 would come first), a 404.
        response = client.post(
            f"/api/v1/obligations/{uuid.uuid4()}/submit/", {"copy": content}, format="multipart"
        )
        assert response.status_code == 404


@pytest.mark.django_db
def test_the_upload_limit_follows_evidence_max_bytes(api_client_for, make_member, tenant, settings):
    settings.EVIDENCE_MAX_BYTES = 10 * MiB
    client = api_client_for(make_member("manager", tenant))
    incident = IncidentFactory(tenant=tenant)
    content = SimpleUploadedFile("big.bin", b"\x00" * (12 * MiB), content_type="application/octet-stream")

    response = client.post(
        "/api/v1/evidence/", {"incident": str(incident.pk), "file": content}, format="multipart"
    )

    assert response.status_code == 413
    assert response.json()["limit"] == 11 * MiB


@pytest.mark.django_db
def test_a_page_over_the_cap_answers_a_short_page(client):
    response = client.post(
        "/sign-in/", {"username": "x", "password": "y", "padding": "z" * (MiB + 1)}, follow=False
    )

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert b"Request too large" in response.content


# ASGI: Django's handler would spool the whole body before any middleware; the wrapper cuts it off.


def run_asgi(path: str, chunks: list[bytes], *, content_length: int | None = None):
    from config.asgi import application

    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
    }
    pending = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    taken = []
    sent = []

    async def receive():
        if pending:
            taken.append(pending.pop(0))
            return taken[-1]
        await asyncio.sleep(60)  # the client stays connected; Django cancels this wait once it answered
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async_to_sync(application)(scope, receive, send)  # as an ASGI server runs it
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, len(taken)


@pytest.mark.django_db
def test_asgi_caps_a_chunked_body_while_it_arrives():
    chunks = [b"\x00" * (256 * 1024)] * 400  # 100 MiB, no Content-Length

    status, body, taken = run_asgi("/api/v1/auth/token/", chunks)

    assert status == 413
    assert json.loads(body)["code"] == "request_too_large"
    assert taken == 5, "read up to the first chunk past the 1 MiB limit, no further"


@pytest.mark.django_db
def test_asgi_refuses_a_declared_length_over_the_limit_unread():
    status, body, taken = run_asgi("/sign-in/", [b"x" * 10], content_length=HUNDRED_MB)

    assert status == 413
    assert b"Request too large" in body
    assert taken == 0


@pytest.mark.django_db
def test_asgi_passes_a_body_within_the_limit():
    status, body, _ = run_asgi("/api/v1/auth/token/", [b'{"username": "nobody",', b' "password": "x"}'])

    assert status == 400, body
