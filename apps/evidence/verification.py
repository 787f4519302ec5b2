"""Offline verification of an evidence package (no database, no storage: only the zip)."""

from __future__ import annotations

import hashlib
import json
import zipfile

from apps.audit.selectors import audit_extract_check, audit_extract_checkpoint_check
from apps.evidence.package import AUDIT, EARLIER_CUSTODY, MANIFEST


def _sha256_of_member(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with archive.open(name) as member:
        while chunk := member.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _custody_ids(files) -> list[str]:
    return [event["id"] for row in files for event in row.get("custody", [])]


def package_check(
    path, *, manifest_sha256: str | None = None, audit_sha256: str | None = None
) -> tuple[str | None, int]:
    """(the first problem found or None, number of files checked)."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return f"not a readable zip: {exc}", 0
    with archive:
        names = set(archive.namelist())
        for required in (MANIFEST, AUDIT):
            if required not in names:
                return f"{required} is missing", 0
        manifest_bytes = archive.read(MANIFEST)
        if manifest_sha256 and hashlib.sha256(manifest_bytes).hexdigest() != manifest_sha256.strip().lower():
            return "manifest.json does not match the given SHA-256 (the manifest was changed)", 0
        try:
            manifest = json.loads(manifest_bytes)
            files = manifest["files"]
        except (ValueError, KeyError, TypeError):
            return "manifest.json is not a valid manifest", 0
        listed = set()
        for row in files:
            path_in_zip = row.get("path", "")
            listed.add(path_in_zip)
            if path_in_zip not in names:
                return f"{path_in_zip}: listed in the manifest but missing from the package", len(listed) - 1
            sha256, size = _sha256_of_member(archive, path_in_zip)
            if size != row.get("size"):
                return f"{path_in_zip}: size {size} differs from the manifest's {row.get('size')}", len(
                    listed
                ) - 1
            if sha256 != row.get("sha256"):
                return f"{path_in_zip}: SHA-256 {sha256} differs from the manifest's {row.get('sha256')}", (
                    len(listed) - 1
                )
        extra = sorted(name for name in names if name.startswith("files/") and name not in listed)
        if extra:
            return f"{extra[0]}: in the package but not in the manifest", len(listed)
        audit_bytes = archive.read(AUDIT)
        if audit_sha256 and hashlib.sha256(audit_bytes).hexdigest() != audit_sha256.strip().lower():
            return "audit.json does not match the given SHA-256 (the extract was changed)", len(listed)
        try:
            audit = json.loads(audit_bytes)
            if audit.get("chain") != manifest.get("audit_chain"):
                return "audit.json is not the extract of the manifest's audit chain", len(listed)
            problem = audit_extract_check(audit["entries"])
            # Anchored to a signed head (README "Audit trail"): signature valid, the extract ends there.
            if problem is None and audit.get("checkpoint"):
                problem = audit_extract_checkpoint_check(
                    audit["checkpoint"], audit["entries"], chain=audit["chain"]
                )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return f"audit.json is malformed ({exc.__class__.__name__}: {exc})", len(listed)
        if problem:
            return f"audit.json: {problem}", len(listed)
        # Every custody entry of the manifest is on the audit trail: an audit row cannot go missing unseen.
        # A report's attachment was audited before it joined the incident: its `evidence.linked` row (in
        # the extract) names the entries it brought.
        recorded = set()
        for row in audit["entries"]:
            if row.get("withheld"):  # an old row naming a confidential reporter, given as a link (package.py)
                recorded.add(row.get("custody_event_id"))
            elif not row.get("redacted"):
                data = row.get("data") or {}
                recorded.add(data.get("custody_event_id"))
                recorded.update(data.get(EARLIER_CUSTODY) or [])
        unrecorded = [event_id for event_id in _custody_ids(files) if event_id not in recorded]
        if unrecorded:
            return f"audit.json has no row for custody entry {unrecorded[0]} of the manifest", len(listed)
    return None, len(listed)
