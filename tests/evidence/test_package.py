"""Evidence packages: streamed zip, reproducible manifest, offline verification that fails on any change."""

import hashlib
import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.evidence.models import CustodyEvent, Evidence

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(incident, investigator, api_client_for, upload):
    """Taken in through the API, so every custody entry is on the audit trail too."""
    client = api_client_for(investigator)
    ids = [
        upload(client, b"A" * 3000 + b"end", name="auth.log", incident=incident.pk).json()["id"],
        upload(
            client, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10, name="screen.png", incident=incident.pk
        ).json()["id"],
    ]
    first, second = (Evidence.unscoped.select_related("collected_by").get(pk=pk) for pk in ids)
    client.post(
        reverse("evidence-custody-list", kwargs={"evidence_pk": first.pk}),
        {"action": "transferred", "from_holder": "IT", "to_holder": "Forensics", "purpose": "Analysis"},
        format="json",
    )
    client.post(reverse("evidence-verify", kwargs={"pk": second.pk}))
    return [first, second]


def _export(client, incident) -> tuple[bytes, str, str]:
    response = client.get(reverse("incident-evidence-package", kwargs={"incident_pk": incident.pk}))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    return (
        b"".join(response.streaming_content),
        response["X-Manifest-SHA256"],
        response["X-Audit-Extract-SHA256"],
    )


def _verify(tmp_path, data: bytes, **options) -> None:
    path = tmp_path / "package.zip"
    path.write_bytes(data)
    call_command("verify_package", str(path), **options, stdout=io.StringIO())


def _rewrite(data: bytes, name: str, change) -> bytes:
    """A copy of the zip with one member changed (or dropped when `change` returns None)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == name:
                content = change(content)
                if content is None:
                    continue
            target.writestr(info, content)
    return out.getvalue()


def test_the_package_holds_files_manifest_incident_and_audit(items, incident, investigator, api_client_for):
    data, manifest_sha256, _ = _export(api_client_for(investigator), incident)
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    assert {f"files/{item.pk}-{item.original_name}" for item in items} <= names
    assert {"manifest.json", "incident.json", "audit.json"} <= names
    assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    manifest_bytes = archive.read("manifest.json")
    assert hashlib.sha256(manifest_bytes).hexdigest() == manifest_sha256
    manifest = json.loads(manifest_bytes)
    rows = {row["id"]: row for row in manifest["files"]}
    first = rows[str(items[0].pk)]
    assert (first["size"], first["sha256"], first["name"]) == (items[0].size, items[0].sha256, "auth.log")
    assert first["collected_by"] == items[0].collected_by.username
    assert first["collected_at"]
    assert [event["action"] for event in first["custody"]] == ["collected", "transferred"]
    assert [event["action"] for event in rows[str(items[1].pk)]["custody"]] == ["collected", "verified"]
    assert archive.read(f"files/{items[1].pk}-screen.png") == b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
    summary = json.loads(archive.read("incident.json"))
    assert summary["incident"]["reference"] == incident.reference
    assert any(entry["verb"] == "evidence.transferred" for entry in summary["timeline"])
    audit = json.loads(archive.read("audit.json"))
    full = [row for row in audit["entries"] if not row.get("redacted")]
    assert full
    assert all(row["incident_id"] == str(incident.pk) for row in full)
    assert all({"hash", "prev_hash"} <= set(row) for row in audit["entries"])
    # Exports are recorded after building: one `exported` entry per item, none in the manifest.
    assert CustodyEvent.unscoped.filter(evidence__in=items, action="exported").count() == 2
    assert "exported" not in manifest_bytes.decode()


def test_the_manifest_is_byte_identical_across_exports(items, incident, investigator, api_client_for):
    client = api_client_for(investigator)
    first, first_hash, _ = _export(client, incident)
    second, second_hash, _ = _export(client, incident)
    read = lambda data: zipfile.ZipFile(io.BytesIO(data)).read("manifest.json")  # noqa: E731
    assert read(first) == read(second)
    assert first_hash == second_hash
    assert CustodyEvent.unscoped.filter(evidence__in=items, action="exported").count() == 4


def test_the_package_verifies_offline(items, incident, investigator, api_client_for, tmp_path):
    data, manifest_sha256, audit_sha256 = _export(api_client_for(investigator), incident)
    out = io.StringIO()
    path = tmp_path / "package.zip"
    path.write_bytes(data)
    call_command(
        "verify_package", str(path), manifest_sha256=manifest_sha256, audit_sha256=audit_sha256, stdout=out
    )
    assert out.getvalue().startswith("OK: 2 file(s)")


def _flip(content: bytes) -> bytes:
    return content[:5] + bytes([content[5] ^ 1]) + content[6:]


@pytest.mark.parametrize(
    "tamper",
    ["flip_file_byte", "drop_file", "add_file", "edit_manifest", "drop_audit_row", "edit_audit_row"],
)
def test_any_change_fails_verification(tamper, items, incident, investigator, api_client_for, tmp_path):
    data, manifest_sha256, _ = _export(api_client_for(investigator), incident)
    file_name = f"files/{items[0].pk}-auth.log"
    audit = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("audit.json"))
    full = [n for n, row in enumerate(audit["entries"]) if not row.get("redacted")]

    def drop_row(content):
        document = json.loads(content)
        del document["entries"][full[1]]
        return json.dumps(document).encode()

    def edit_row(content):
        document = json.loads(content)
        document["entries"][full[0]]["actor_repr"] = "someone-else"
        return json.dumps(document).encode()

    def edit_manifest(content):
        return content.replace(items[0].collected_by.username.encode(), b"someone-else")

    tampered = {
        "flip_file_byte": lambda: _rewrite(data, file_name, _flip),
        "drop_file": lambda: _rewrite(data, file_name, lambda content: None),
        "add_file": lambda: _add(data, "files/extra-planted.txt", b"planted"),
        "edit_manifest": lambda: _rewrite(data, "manifest.json", edit_manifest),
        "drop_audit_row": lambda: _rewrite(data, "audit.json", drop_row),
        "edit_audit_row": lambda: _rewrite(data, "audit.json", edit_row),
    }[tamper]()

    _verify(tmp_path, data, manifest_sha256=manifest_sha256)  # the untouched package passes
    with pytest.raises(CommandError, match="FAILED"):
        _verify(tmp_path, tampered, manifest_sha256=manifest_sha256)


def _add(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr(name, content)
    return out.getvalue()


def test_dropping_a_custody_rows_audit_entry_fails_even_at_the_extract_end(
    items, incident, investigator, api_client_for, tmp_path
):
    data, _, _ = _export(api_client_for(investigator), incident)

    def drop_last_full_row(content):
        document = json.loads(content)
        last = max(n for n, row in enumerate(document["entries"]) if not row.get("redacted"))
        document["entries"] = document["entries"][:last]
        return json.dumps(document).encode()

    with pytest.raises(CommandError, match="audit"):
        _verify(tmp_path, _rewrite(data, "audit.json", drop_last_full_row))


def test_handlers_may_not_export(items, incident, handler, api_client_for):
    response = api_client_for(handler).get(
        reverse("incident-evidence-package", kwargs={"incident_pk": incident.pk})
    )
    assert response.status_code == 403
    assert not CustodyEvent.unscoped.filter(action="exported").exists()
