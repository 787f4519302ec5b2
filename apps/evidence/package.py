"""Evidence packages for legal and regulatory hand-over: a zip streamed as it is written.

    files/<id>-<name>   the stored bytes, unchanged (stored, not compressed)
    manifest.json       per file: id, name, size, SHA-256, collected by/at, custody log; deterministic
                        (a confidential reporter shows as "confidential": apps.core.identity)
    incident.json       the incident's summary and timeline
    audit.json          the incident's segment of the tenant's audit hash chain

The manifest is reproducible: sorted keys and items, no generation time, and no `exported` custody
entries (each export records them after building), so the same evidence and custody log give the same
bytes and the same X-Manifest-SHA256. `manage.py verify_package` checks a package offline.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from apps.audit.selectors import audit_extract_checkpoint, audit_incident_extract
from apps.core.errors import Conflict
from apps.core.identity import holder_name, recorded_row_withheld, scrub
from apps.evidence import selectors
from apps.evidence.files import chunks_of, evidence_storage
from apps.evidence.models import CustodyEvent, Evidence
from apps.response.models import Incident
from apps.response.selectors import timeline_list

FORMAT = "vigil-evidence-package/1"
MANIFEST = "manifest.json"
INCIDENT = "incident.json"
AUDIT = "audit.json"
# In the audit row of `evidence.linked`: the custody entries a report's attachment brought into the incident
# (audited before it was the incident's, so outside the extract's own rows).
EARLIER_CUSTODY = "earlier_custody_event_ids"
# Fixed entry times: the zip's own bytes depend on the contents only.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
SPOOL_BYTES = 8 * 1024 * 1024


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _json(document) -> bytes:
    return (json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n").encode()


def file_path(evidence: Evidence) -> str:
    return f"files/{evidence.pk}-{evidence.original_name}"


def _reporter_hidden(evidence: Evidence):
    """The confidential reporter of the item's report, whose traces the package replaces by the pseudonym
    (apps.core.identity): whoever it is handed to may not know who reported, a manager included; or None."""
    report = evidence.report
    return report.reporter if report is not None and report.confidential else None


def _shown(value, reporter):
    return value if reporter is None else scrub(value, reporter)


def _custody_row(event: CustodyEvent, reporter) -> dict:
    return {
        "id": str(event.pk),
        "action": event.action,
        "at": _iso(event.at),
        "actor": _shown(event.actor_repr, reporter),
        "from_holder": _shown(event.from_holder, reporter),
        "to_holder": _shown(event.to_holder, reporter),
        "purpose": _shown(event.purpose, reporter),
        "location": event.location,
        "data": _shown(event.data, reporter),
    }


def _file_row(evidence: Evidence, custody: list[CustodyEvent]) -> dict:
    reporter, report = _reporter_hidden(evidence), evidence.report
    return {
        "id": str(evidence.pk),
        "path": file_path(evidence),
        "name": evidence.original_name,
        "size": evidence.size,
        "sha256": evidence.sha256,
        "description": evidence.description,
        "source": evidence.source,
        "source_detail": _shown(evidence.source_detail, reporter),
        "method": evidence.method,
        "tool": evidence.tool,
        "tool_version": evidence.tool_version,
        "declared_content_type": evidence.declared_content_type,
        "detected_content_type": evidence.detected_content_type,
        "collected_by": holder_name(evidence.collected_by, report=report),
        "collected_at": _iso(evidence.collected_at),
        "collected_where": evidence.collected_where,
        "uploaded_by": holder_name(evidence.uploaded_by, report=report),
        "uploaded_at": _iso(evidence.uploaded_at),
        "seal_number": evidence.seal_number,
        "location": evidence.location,
        "supersedes": str(evidence.supersedes_id) if evidence.supersedes_id else None,
        "custody": [_custody_row(event, reporter) for event in custody],
    }


def build_manifest(*, incident: Incident, items: list[Evidence]) -> bytes:
    custody: dict = defaultdict(list)
    for event in selectors.incident_custody(incident=incident):
        custody[event.evidence_id].append(event)
    files = sorted((_file_row(item, custody[item.pk]) for item in items), key=lambda row: row["id"])
    return _json(
        {
            "format": FORMAT,
            "hash_algorithm": "sha256",
            "incident": {
                "id": str(incident.pk),
                "reference": incident.reference,
                "tenant": str(incident.tenant_id),
            },
            "audit_chain": str(incident.tenant_id),
            "files": files,
        }
    )


def _incident_document(incident: Incident) -> bytes:
    timeline = [
        {
            "at": _iso(entry.at),
            "kind": entry.kind,
            "verb": entry.verb,
            "actor": entry.actor_repr,
            "summary": entry.summary,
            "direction": entry.direction,
            "counterpart": entry.counterpart,
            "channel": entry.channel,
        }
        for entry in timeline_list(incident=incident).order_by("at", "id")
    ]
    summary = {
        name: getattr(incident, name)
        for name in [
            "reference",
            "title",
            "description",
            "status",
            "severity",
            "impact",
            "urgency",
            "personal_data_breach",
            "regimes",
            "root_cause",
            "declared_at",
            "aware_at",
            "contained_at",
            "recovered_at",
            "closed_at",
        ]
    }
    summary.update(id=str(incident.pk), tenant=str(incident.tenant_id))
    return _json({"incident": summary, "timeline": timeline})


def _audit_document(incident: Incident) -> tuple[IO[bytes], str]:
    """audit.json, written row by row to a spooled temporary file (memory stays flat), and its SHA-256."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - handed to the stream
    digest = hashlib.sha256()

    def write(data: bytes) -> None:
        digest.update(data)
        spool.write(data)

    # Anchored to the first signed checkpoint after the incident's last row, when there is one yet: the
    # extract runs on to it and carries it (README, "Audit trail"), verifiable offline with its public key.
    anchor = audit_extract_checkpoint(tenant_id=incident.tenant_id, incident_id=incident.pk)
    carried = f'"checkpoint": {json.dumps(anchor, sort_keys=True)}, ' if anchor else ""
    write(f'{{"chain": "{incident.tenant_id}", "incident": "{incident.pk}", {carried}"entries": [\n'.encode())
    rows = audit_incident_extract(
        tenant_id=incident.tenant_id, incident_id=incident.pk, through_seq=anchor["seq"] if anchor else None
    )
    for n, row in enumerate(rows):
        write((b",\n" if n else b"") + json.dumps(_extract_row(row), sort_keys=True, default=str).encode())
    write(b"\n]}\n")
    spool.seek(0)
    return spool, digest.hexdigest()


def _extract_row(row: dict) -> dict:
    """An old row naming a confidential reporter (recorded before the redaction at source) is given as a
    link only, like another incident's row, with the custody entry it recorded (verify_package)."""
    if row.get("redacted") or not recorded_row_withheld(row):
        return row
    custody_event_id = (row.get("data") or {}).get("custody_event_id")
    link = {"seq": row["seq"], "prev_hash": row["prev_hash"], "hash": row["hash"], "redacted": True}
    return {**link, "withheld": "confidential reporter", "custody_event_id": custody_event_id}


@dataclass
class Package:
    incident: Incident
    items: list[Evidence]
    manifest: bytes
    incident_document: bytes
    audit_document: IO[bytes]
    audit_sha256: str

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(self.manifest).hexdigest()

    def stream(self) -> Iterator[bytes]:
        """The zip, chunk by chunk as it is written: no file is ever held in memory."""
        return (chunk for chunk in self._zip() if chunk)

    def _zip(self) -> Iterator[bytes]:
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for item in sorted(self.items, key=lambda evidence: str(evidence.pk)):
                info = _entry(file_path(item))
                with archive.open(info, "w", force_zip64=item.size >= zipfile.ZIP64_LIMIT) as out:
                    for chunk in chunks_of(item.storage_key):
                        out.write(chunk)
                        yield sink.drain()
            for name, data in [(MANIFEST, self.manifest), (INCIDENT, self.incident_document)]:
                archive.writestr(_entry(name), data)
                yield sink.drain()
            with archive.open(_entry(AUDIT), "w", force_zip64=True) as out, self.audit_document:
                while chunk := self.audit_document.read(1024 * 1024):
                    out.write(chunk)
                    yield sink.drain()
        yield sink.drain()


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


class _Sink:
    """A write-only, unseekable file for zipfile: what is written is handed to the response."""

    def __init__(self):
        self._chunks: list[bytes] = []

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def package_build(*, incident: Incident) -> Package:
    """Everything but the files' bytes, read now (inside the request's tenant context and transaction);
    the bytes are streamed from storage as the zip is sent."""
    items = list(selectors.incident_evidence(incident=incident))
    storage = evidence_storage()
    missing = [str(item.pk) for item in items if not storage.exists(item.storage_key)]
    if missing:
        raise Conflict(f"Stored bytes are missing for evidence {', '.join(missing)}; verify them first.")
    audit_document, audit_sha256 = _audit_document(incident)
    return Package(
        incident=incident,
        items=items,
        manifest=build_manifest(incident=incident, items=items),
        incident_document=_incident_document(incident),
        audit_document=audit_document,
        audit_sha256=audit_sha256,
    )
