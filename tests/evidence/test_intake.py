"""Intake: streamed hashing, content-addressed storage, limits with clear answers, metadata, who may."""

import hashlib
import os
import subprocess
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.core.files import HashingUploadHandler as EvidenceUploadHandler
from apps.core.files import sanitise_name
from apps.evidence.files import evidence_storage, sniff_content_type
from apps.evidence.models import CustodyEvent, Evidence
from apps.response.models import TimelineEntry
from apps.tenancy.roles import RoleId
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def test_streamed_hash_equals_sha256sum(api_client_for, handler, incident, upload, tmp_path, monkeypatch):
    source = tmp_path / "disk.img"
    with source.open("wb") as out:
        for _ in range(6):
            out.write(os.urandom(512 * 1024) + b"\x00" * 1000)  # ~3 MB, not a multiple of any chunk size
    expected = subprocess.run(["sha256sum", str(source)], capture_output=True, check=True, text=True)
    chunks_seen = []
    original = EvidenceUploadHandler.receive_data_chunk

    def counting(self, raw_data, start):
        chunks_seen.append(len(raw_data))
        return original(self, raw_data, start)

    monkeypatch.setattr(EvidenceUploadHandler, "receive_data_chunk", counting)

    response = upload(api_client_for(handler), source.read_bytes(), name="disk.img", incident=incident.pk)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sha256"] == expected.stdout.split()[0]
    assert body["size"] == source.stat().st_size
    assert len(chunks_seen) > 1, "hashed chunk by chunk"
    assert max(chunks_seen) <= EvidenceUploadHandler.chunk_size
    stored = Evidence.unscoped.get(pk=body["id"])
    assert stored.storage_key == f"evidence/{incident.tenant_id}/{body['sha256'][:2]}/{body['sha256']}"
    with evidence_storage().open(stored.storage_key) as kept:
        assert hashlib.sha256(kept.read()).hexdigest() == body["sha256"]


def test_metadata_custody_and_events_are_recorded(api_client_for, handler, incident, upload):
    collected_at = (timezone.now() - timezone.timedelta(hours=3)).replace(microsecond=0)
    response = upload(
        api_client_for(handler),
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
        name="screen.png",
        incident=incident.pk,
        description="Ransom note on the desktop",
        source="host",
        source_detail="FS01",
        method="screenshot",
        tool="Greenshot",
        tool_version="1.2.10",
        collected_at=collected_at.isoformat(),
        collected_where="Server room B",
        seal_number="S-0042",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["original_name"] == "screen.png"
    assert (body["declared_content_type"], body["detected_content_type"]) == ("text/plain", "image/png")
    assert (body["source"], body["method"], body["tool"], body["tool_version"]) == (
        "host",
        "screenshot",
        "Greenshot",
        "1.2.10",
    )
    assert body["collected_by"] == str(handler.pk) == body["uploaded_by"], (
        "the uploader collected it by default"
    )
    assert body["collected_at"].startswith(collected_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert body["seal_number"] == "S-0042"
    collected = CustodyEvent.unscoped.get(evidence_id=body["id"])
    assert (collected.action, collected.actor, collected.location) == ("collected", handler, "Server room B")
    added = AuditEntry.unscoped.get(verb="evidence.added", target_id=body["id"])
    assert added.changes["sha256"][1] == body["sha256"]
    assert added.data["custody_event_id"] == str(collected.pk), "the custody entry is on the audit chain"
    assert TimelineEntry.unscoped.filter(incident=incident, verb="evidence.added").exists()


def test_identical_bytes_are_stored_once(api_client_for, handler, incident, upload, settings):
    client = api_client_for(handler)
    first = upload(client, b"same bytes", name="a.txt", incident=incident.pk).json()
    second = upload(client, b"same bytes", name="b.txt", incident=incident.pk).json()

    assert first["id"] != second["id"]
    keys = set(
        Evidence.unscoped.filter(pk__in=[first["id"], second["id"]]).values_list("storage_key", flat=True)
    )
    assert len(keys) == 1
    root = settings.STORAGES["evidence"]["OPTIONS"]["location"]
    assert sum(len(files) for _, _, files in os.walk(root)) == 1


def test_empty_file_is_400(api_client_for, handler, incident, upload):
    response = upload(api_client_for(handler), b"", incident=incident.pk)
    assert response.status_code == 400
    assert "file" in response.json()
    assert not Evidence.unscoped.exists()


@pytest.mark.parametrize("size", [5000, 2 * 1024 * 1024], ids=["over-limit-streamed", "content-length-early"])
def test_over_the_limit_is_413(size, api_client_for, handler, incident, upload, settings):
    """Refused from the declared Content-Length when it is clearly over, and while streaming otherwise."""
    settings.EVIDENCE_MAX_BYTES = 4096
    response = upload(api_client_for(handler), b"x" * size, incident=incident.pk)
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert not Evidence.unscoped.exists()
    assert (
        os.listdir(settings.EVIDENCE_UPLOAD_TEMP_DIR) == []
        if os.path.isdir(settings.EVIDENCE_UPLOAD_TEMP_DIR)
        else True
    )


def test_at_the_limit_is_accepted(api_client_for, handler, incident, upload, settings):
    settings.EVIDENCE_MAX_BYTES = 4096
    assert upload(api_client_for(handler), b"x" * 4096, incident=incident.pk).status_code == 201


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\config\\SAM", "SAM"),
        ("/absolute/path/report.pdf", "report.pdf"),
        ("..", "evidence"),
        (".bashrc", "bashrc"),
        ("evil\r\nContent-Type: text/html.txt", "html.txt"),
        ("evil\r\nname\x1b[31m.txt", "evilname[31m.txt"),
        ("C:evil:stream.txt", "C_evil_stream.txt"),
        ("nul\x00byte.txt", "nulbyte.txt"),
        ("a" * 300 + ".log", "a" * 146 + ".log"),
        ('quo"te<>|.txt', "quo_te_.txt"),
        ("Überwachung €.log", "Überwachung €.log"),
    ],
)
def test_names_are_sanitised(raw, expected):
    assert sanitise_name(raw, default="evidence") == expected
    assert len(sanitise_name(raw, default="evidence")) <= 150


def test_traversal_name_through_the_api(api_client_for, handler, incident, upload):
    response = upload(api_client_for(handler), b"data", name="../../../etc/cron.d/x", incident=incident.pk)
    assert response.status_code == 201
    assert response.json()["original_name"] == "x"
    stored = Evidence.unscoped.get(pk=response.json()["id"])
    assert ".." not in stored.storage_key
    assert "cron" not in stored.storage_key


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"PK\x03\x04rest", "application/zip"),
        (b"\x7fELF\x02\x01", "application/x-executable"),
        (b"MZ\x90\x00", "application/x-msdownload"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "application/vnd.tcpdump.pcap"),
        (b"From: a@example.org\nTo: b@example.org\n", "message/rfc822"),
        (b"<html><script>alert(1)</script>", "text/html"),
        (b"2026-01-01 sshd[1]: Failed password\n", "text/plain"),
        (bytes(range(256)) * 2, "application/octet-stream"),
    ],
)
def test_content_type_is_sniffed_from_the_bytes(head, expected):
    assert sniff_content_type(head) == expected


def test_another_tenants_incident_answers_like_an_unknown_one(api_client_for, handler, other_tenant, upload):
    theirs = IncidentFactory(tenant=other_tenant)
    bogus = uuid.uuid4()
    client = api_client_for(handler)
    response = upload(client, b"planted", incident=theirs.pk)
    unknown = upload(client, b"planted", incident=bogus)
    assert response.status_code == unknown.status_code == 400
    assert str(response.json()).replace(str(theirs.pk), "<id>") == str(unknown.json()).replace(
        str(bogus), "<id>"
    )
    assert not Evidence.unscoped.exists()


@pytest.mark.parametrize("role", [RoleId.REPORTER, RoleId.AUDITOR, RoleId.EXECUTIVE])
def test_roles_without_evidence_write_are_refused(
    role, make_member, tenant, incident, api_client_for, upload
):
    response = upload(api_client_for(make_member(role, tenant)), b"data", incident=incident.pk)
    assert response.status_code in (400, 403), response.json()
    assert not Evidence.unscoped.exists()


def test_a_closed_incident_still_takes_evidence(api_client_for, handler, tenant, upload):
    closed = IncidentFactory(tenant=tenant, status="closed", closed_at=timezone.now())
    assert upload(api_client_for(handler), b"late find", incident=closed.pk).status_code == 201


def test_exactly_one_of_incident_or_report(api_client_for, handler, incident, upload):
    client = api_client_for(handler)
    assert upload(client, b"orphan").status_code == 400


def test_a_reporter_attaches_a_file_to_its_own_report(make_member, tenant, api_client_for, upload):
    reporter = make_member(RoleId.REPORTER, tenant)
    stranger = make_member(RoleId.REPORTER, tenant)
    client = api_client_for(reporter)
    report = client.post(
        reverse("report-list"),
        {"tenant": str(tenant.pk), "kind": "event", "title": "Phishing mail", "occurred_at": timezone.now()},
        format="json",
    ).json()

    attached = upload(client, b"From: boss@examp1e.org\n\nPay now", name="mail.eml", report=report["id"])
    assert attached.status_code == 201, attached.json()
    assert (attached.json()["report"], attached.json()["incident"]) == (report["id"], None)
    assert attached.json()["detected_content_type"] == "message/rfc822"
    listed = client.get(reverse("evidence-list"), {"report": report["id"]}).json()["results"]
    assert [row["id"] for row in listed] == [attached.json()["id"]]

    other = upload(api_client_for(stranger), b"planted", report=report["id"])
    assert other.status_code == 400, "another reporter's report is not even visible"
    assert api_client_for(stranger).get(reverse("evidence-list")).json()["results"] == []


def test_confidential_reporter_stays_hidden_on_its_attachment(make_member, tenant, api_client_for, upload):
    reporter = make_member(RoleId.REPORTER, tenant)
    handler = make_member(RoleId.HANDLER, tenant)
    manager = make_member(RoleId.MANAGER, tenant)
    client = api_client_for(reporter)
    report = client.post(
        reverse("report-list"),
        {
            "tenant": str(tenant.pk),
            "kind": "weakness",
            "title": "Shared admin password",
            "occurred_at": timezone.now(),
            "confidential": True,
        },
        format="json",
    ).json()
    evidence_id = upload(client, b"screenshot", report=report["id"]).json()["id"]

    seen_by_handler = (
        api_client_for(handler).get(reverse("evidence-detail", kwargs={"pk": evidence_id})).json()
    )
    assert (seen_by_handler["collected_by"], seen_by_handler["uploaded_by"]) == (None, None)
    custody = api_client_for(handler).get(
        reverse("evidence-custody-list", kwargs={"evidence_pk": evidence_id})
    )
    assert custody.json()["results"][0]["actor_repr"] == "confidential"
    seen_by_manager = (
        api_client_for(manager).get(reverse("evidence-detail", kwargs={"pk": evidence_id})).json()
    )
    assert seen_by_manager["uploaded_by"] == str(reporter.pk)
    added = AuditEntry.unscoped.get(verb="evidence.added", target_id=evidence_id)
    assert (added.actor_id, added.actor_repr) == (None, "confidential")


def test_upload_without_the_handler_is_hashed_by_the_service(handler, incident, in_tenant):
    """Services take any Django File (the web UI's, a command's): hashed there, chunk by chunk."""
    from django.db import transaction

    from apps.evidence.services import evidence_add
    from apps.tenancy.access import access_for

    with in_tenant(handler), transaction.atomic():
        evidence = evidence_add(
            actor=handler,
            access=access_for(handler),
            incident=incident,
            file=SimpleUploadedFile("note.txt", b"hello"),
        )
    assert evidence.sha256 == hashlib.sha256(b"hello").hexdigest()
