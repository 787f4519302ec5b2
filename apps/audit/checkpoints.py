"""Signed checkpoints: each chain's head, recorded daily (Celery beat), as a small JSON document signed with
Ed25519 (apps/audit/keys.py), kept in the database and written to the evidence storage.

An auditor verifies one offline with the public key and standard tools (README, "Audit trail"):

    openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in checkpoint.json -sigfile checkpoint.sig

A checkpoint fixes a chain's hash at a seq: a chain later rewritten, cut short or extended by forged rows
below it no longer reaches that hash (verify_audit), and the checkpoint itself cannot be made anew
without the signing key, which the database does not hold."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from apps.audit import keys
from apps.audit.models import PLATFORM_CHAIN, AuditChainHead, AuditEntry
from apps.tenancy.access import Access
from apps.tenancy.context import SYSTEM_DATABASE, current_context
from apps.tenancy.roles import Scope

FORMAT = "vigil-audit-checkpoint/1"
STORAGE_DIR = "audit-checkpoints"


def checkpoint_document(*, chain: str, seq: int, head_hash: str, recorded_at: datetime) -> bytes:
    """The exact bytes that are signed: canonical JSON (sorted keys, no spaces), one line, no newline."""
    document = {
        "format": FORMAT,
        "chain": chain,
        "tenant": None if chain == PLATFORM_CHAIN else chain,
        "seq": seq,
        "hash": head_hash,
        "recorded_at": recorded_at.isoformat(),
        "signing_key": keys.signing_key_id(),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def file_stem(head: AuditChainHead) -> str:
    return f"{head.chain}-{head.seq}-{head.recorded_at:%Y%m%dT%H%M%S%fZ}"


def _store(stem: str, chain: str, document: bytes, signature: bytes) -> str:
    storage = storages["evidence"]
    base = f"{STORAGE_DIR}/{chain}/{stem}"
    storage.save(f"{base}.json", ContentFile(document))
    storage.save(f"{base}.sig", ContentFile(signature))
    return f"{base}.json"


@transaction.atomic(using=SYSTEM_DATABASE)
def audit_record_chain_heads() -> int:
    """Record and sign every chain's current head (run daily by Celery beat). Reads every chain: on the
    system connection (the app's role sees only its context's chains)."""
    entries = AuditEntry.unscoped.using(SYSTEM_DATABASE)
    heads = entries.values("chain").annotate(last_seq=Max("seq")).order_by("chain")
    recorded = 0
    for head in heads:
        last = entries.get(chain=head["chain"], seq=head["last_seq"])
        row = AuditChainHead(
            chain=last.chain,
            tenant_id=last.tenant_id,
            seq=last.seq,
            hash=last.hash,
            recorded_at=timezone.now(),
        )
        document = checkpoint_document(
            chain=row.chain, seq=row.seq, head_hash=row.hash, recorded_at=row.recorded_at
        )
        signature = keys.sign(document)
        row.checkpoint, row.signature, row.signing_key = (
            document.decode(),
            signature.hex(),
            keys.signing_key_id(),
        )
        row.storage_name = _store(file_stem(row), row.chain, document, signature)
        row.save(using=SYSTEM_DATABASE, force_insert=True)
        recorded += 1
    return recorded


def audit_checkpoint_list(*, access: Access) -> QuerySet[AuditChainHead]:
    """Signed checkpoints of the chains the caller may audit, within the request's (maybe narrowed) context;
    the platform chain's for platform administrators (unnarrowed), as the audit trail's own list."""
    context = current_context()
    audited = context.tenant_ids if access.is_superuser else access.tenants_with(Scope.AUDIT_READ)
    scope = Q(tenant_id__in=audited & context.tenant_ids)
    if access.is_superuser and not context.narrowed:
        scope |= Q(tenant__isnull=True)
    return AuditChainHead.objects.exclude(signature="").filter(scope)


def audit_checkpoints_export(*, directory: Path, chain: str | None = None, latest: bool = False) -> int:
    """Write pub.pem and, per checkpoint, <stem>.json and <stem>.sig into `directory` (system connection:
    an operator's command for the auditors). The number of checkpoints written."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pub.pem").write_bytes(keys.public_key_pem())
    qs = AuditChainHead.objects.using(SYSTEM_DATABASE).exclude(signature="").order_by("chain", "-seq", "-id")
    if chain:
        qs = qs.filter(chain=chain)
    if latest:
        qs = qs.distinct("chain")
    written = 0
    for head in qs.iterator():
        stem = file_stem(head)
        (directory / f"{stem}.json").write_bytes(head.checkpoint.encode())
        (directory / f"{stem}.sig").write_bytes(bytes.fromhex(head.signature))
        written += 1
    return written


def checkpoint_verify(*, document: bytes, signature: bytes) -> bool:
    """The signature is the configured key's over exactly these bytes (what openssl checks offline)."""
    return keys.signature_valid(document=document, signature=signature)
