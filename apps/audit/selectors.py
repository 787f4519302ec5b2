from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, Min, QuerySet

from apps.audit import keys
from apps.audit.models import GENESIS_HASH, AuditChainHead, AuditEntry
from apps.tenancy.access import Access
from apps.tenancy.context import SYSTEM_DATABASE
from apps.tenancy.roles import Scope


def audit_entry_list(*, access: Access) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.all()
    if not access.is_superuser:
        qs = qs.filter(tenant_id__in=access.tenants_with(Scope.AUDIT_READ))
    return qs


@dataclass(frozen=True)
class ChainBreak:
    chain: str
    entry_id: int | None
    seq: int
    reason: str

    def __str__(self) -> str:
        where = f"row id {self.entry_id} (seq {self.seq})" if self.entry_id else f"seq {self.seq}"
        return f"chain {self.chain}: first broken link at {where}: {self.reason}"


def audit_chain_verify(*, chain: str, using: str = SYSTEM_DATABASE) -> ChainBreak | None:
    """Walk one chain in order, recomputing every hash and checking every row's mac with the chain key,
    and that each recorded head is still there (its seq, its hash; a signed one's signature): the first
    broken link, or None. On the system connection: it reads whole chains, whatever context."""
    heads = list(AuditChainHead.objects.using(using).filter(chain=chain).order_by("seq", "id"))
    if problem := _checkpoint_problem(chain, heads):
        return problem
    head_hashes = {head.seq: head.hash for head in heads}
    expected_prev, expected_seq, rank = GENESIS_HASH, 1, -1
    entries: Iterator[AuditEntry] = (
        AuditEntry.unscoped.using(using).filter(chain=chain).order_by("seq").iterator(chunk_size=2000)
    )
    order = keys.chain_key_order()
    for entry in entries:
        if entry.seq != expected_seq:
            return ChainBreak(chain, entry.id, expected_seq, f"row seq {expected_seq} is missing")
        if entry.prev_hash != expected_prev:
            return ChainBreak(chain, entry.id, entry.seq, "prev_hash does not match the previous row's hash")
        if entry.compute_hash() != entry.hash:
            return ChainBreak(chain, entry.id, entry.seq, "content does not match its hash (row edited)")
        if problem := _mac_problem(entry, order=order, rank=rank):
            return ChainBreak(chain, entry.id, entry.seq, problem)
        if head_hashes.get(entry.seq, entry.hash) != entry.hash:
            return ChainBreak(chain, entry.id, entry.seq, "differs from the recorded head (chain rewritten)")
        expected_prev, expected_seq = entry.hash, entry.seq + 1
        rank = max(rank, order.index(entry.mac_key)) if entry.mac else rank
    recorded = max(head_hashes, default=None)
    if recorded is not None and recorded >= expected_seq:
        return ChainBreak(
            chain, None, expected_seq, f"chain ends before its recorded head seq {recorded} (truncated)"
        )
    return None


def _signed(document: str, signature_hex: str, key=None) -> bool:
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        return False
    return keys.signature_valid(document=document.encode(), signature=signature, key=key)


def _checkpoint_problem(chain: str, heads: list[AuditChainHead]) -> ChainBreak | None:
    """A signed head's checkpoint must verify with the configured public key and name the head itself."""
    import json

    for head in heads:
        if not head.signature or head.signing_key != keys.signing_key_id():
            continue  # recorded before signing, or signed with a key this installation no longer has
        if not _signed(head.checkpoint, head.signature):
            return ChainBreak(chain, None, head.seq, "a recorded checkpoint's signature does not verify")
        document = json.loads(head.checkpoint)
        if (document.get("chain"), document.get("seq"), document.get("hash")) != (chain, head.seq, head.hash):
            return ChainBreak(chain, None, head.seq, "a recorded head differs from its signed checkpoint")
    return None


def _mac_problem(entry: AuditEntry, *, order: list[str], rank: int) -> str | None:
    """Rows from before the chain key (migration 0004) have no mac; once a chain has a keyed row, every
    later one must have its mac (the database's append function refuses a row without one). Keys are used
    in their order (keys.chain_key_order): `rank` is the latest one the chain has used so far (-1: none)."""
    if not entry.mac:
        return "row has no mac after keyed rows (appended around the chain key)" if rank >= 0 else None
    if entry.mac_key not in order:
        return (
            f"row was keyed with chain key {entry.mac_key}, neither the configured key {order[-1]} "
            "nor a retired one (AUDIT_CHAIN_RETIRED_KEYS_FILE)"
        )
    if order.index(entry.mac_key) < rank:
        return f"row was keyed with the retired chain key {entry.mac_key} after a newer key"
    if not keys.chain_mac_matches(entry.hash, entry.mac, key_id=entry.mac_key):
        return "mac does not match the row's hash (row not written by Vigil: forged)"
    return None


def audit_chains(*, using: str = SYSTEM_DATABASE) -> list[str]:
    chains = set(AuditEntry.unscoped.using(using).values_list("chain", flat=True).distinct())
    chains |= set(AuditChainHead.objects.using(using).values_list("chain", flat=True).distinct())
    return sorted(chains)


# --------------------------------------------------------------------------------------------------
# Extracts: one incident's rows of its tenant's chain, verifiable on their own (evidence packages)
# --------------------------------------------------------------------------------------------------


def _extract_row(entry: AuditEntry) -> dict:
    return {
        "id": entry.id,
        "chain": entry.chain,
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "tenant": str(entry.tenant_id) if entry.tenant_id else None,
        "actor_id": str(entry.actor_id) if entry.actor_id else None,
        "actor_repr": entry.actor_repr,
        "verb": entry.verb,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target_repr": entry.target_repr,
        "incident_id": str(entry.incident_id) if entry.incident_id else None,
        "changes": entry.changes,
        "data": entry.data,
        "channel": entry.channel,
        "ip": entry.ip,
        "user_agent": entry.user_agent,
        "confidential": entry.confidential,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
        "mac": entry.mac,
        "mac_key": entry.mac_key,
    }


def audit_incident_extract(*, tenant_id, incident_id, through_seq: int | None = None) -> Iterator[dict]:
    """The segment of the tenant's chain from the incident's first row to its last (or on to
    `through_seq`, a signed checkpoint's: audit_extract_checkpoint), in order: the
    incident's rows in full, every other row as a link only (`seq`, `prev_hash`, `hash`, `redacted`), so
    the extract's chain verifies on its own and a dropped or edited row shows, while other incidents'
    rows reveal nothing. Read-only; a server-side cursor keeps memory flat.

    On the app's connection, behind row-level security: the package's own transaction (its rows not yet
    committed) and the caller's context, which holds the incident's tenant (a separate system connection
    would see neither the one nor respect the other)."""
    chain = str(tenant_id)
    ours = AuditEntry.unscoped.filter(chain=chain, incident_id=incident_id)
    bounds = ours.aggregate(first=Min("seq"), last=Max("seq"))
    if bounds["first"] is None:
        return
    last = max(bounds["last"], through_seq or 0)
    segment = AuditEntry.unscoped.filter(chain=chain, seq__gte=bounds["first"], seq__lte=last)
    for entry in segment.order_by("seq").iterator(chunk_size=2000):
        if entry.incident_id is not None and str(entry.incident_id) == str(incident_id):
            yield _extract_row(entry)
        else:
            yield {"seq": entry.seq, "prev_hash": entry.prev_hash, "hash": entry.hash, "redacted": True}


def audit_extract_checkpoint(*, tenant_id, incident_id) -> dict | None:
    """The first signed checkpoint of the tenant's chain at or after the incident's last row, signed with
    the configured key, for an extract to run on to (audit_incident_extract's `through_seq`): the
    document, its signature (hex) and the public key (PEM), so the extract is anchored offline to a head
    nobody can sign anew. None while no checkpoint covers the incident's rows yet (the next daily one)."""
    chain = str(tenant_id)
    last = AuditEntry.unscoped.filter(chain=chain, incident_id=incident_id).aggregate(last=Max("seq"))["last"]
    if last is None:
        return None
    head = (
        AuditChainHead.objects.filter(chain=chain, seq__gte=last, signing_key=keys.signing_key_id())
        .exclude(signature="")
        .order_by("seq", "id")
        .first()
    )
    if head is None:
        return None
    return {
        "seq": head.seq,
        "document": head.checkpoint,
        "signature": head.signature,
        "public_key": keys.public_key_pem().decode(),
    }


def audit_extract_checkpoint_check(checkpoint: dict, rows: list, *, chain: str) -> str | None:
    """Offline: the checkpoint's signature verifies with its public key, and it is the head of this chain
    at the extract's last row (same seq, same hash). The first problem, or None."""
    import json

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    public_key = load_pem_public_key(checkpoint["public_key"].encode())
    if not isinstance(public_key, Ed25519PublicKey):
        return "checkpoint: the public key is not an Ed25519 key"
    if not _signed(checkpoint["document"], checkpoint["signature"], key=public_key):
        return "checkpoint: the signature does not verify (the checkpoint was changed)"
    document = json.loads(checkpoint["document"])
    last = rows[-1] if rows else {}
    if document.get("chain") != chain:
        return "checkpoint: it is another chain's"
    if (document.get("seq"), document.get("hash")) != (last.get("seq"), last.get("hash")):
        return f"checkpoint: the extract does not end at the signed head seq {document.get('seq')}"
    return None


def audit_extract_check(rows) -> str | None:
    """Verify an extract offline (no database): consecutive seqs, each row linked to the previous one's
    hash, every full row's content matching its hash. The first problem, or None."""
    previous: dict | None = None
    for row in rows:
        seq = row.get("seq")
        if previous is not None:
            if seq != previous["seq"] + 1:
                return f"audit row seq {previous['seq'] + 1} is missing (next is {seq})"
            if row.get("prev_hash") != previous.get("hash"):
                return f"audit row seq {seq}: prev_hash does not match the previous row's hash"
        if not row.get("redacted"):
            entry = AuditEntry(
                chain=row["chain"],
                seq=seq,
                at=datetime.fromisoformat(row["at"]),
                tenant_id=row["tenant"],
                actor_id=row["actor_id"],
                actor_repr=row["actor_repr"],
                verb=row["verb"],
                target_type=row["target_type"],
                target_id=row["target_id"],
                target_repr=row["target_repr"],
                incident_id=row["incident_id"],
                changes=row["changes"],
                data=row["data"],
                channel=row["channel"],
                ip=row["ip"],
                user_agent=row["user_agent"],
                confidential=row["confidential"],
                prev_hash=row["prev_hash"],
            )
            if entry.compute_hash() != row.get("hash"):
                return f"audit row seq {seq}: content does not match its hash (row edited)"
            # The mac needs the chain key: checked where it is configured (the installation that made it).
            keyed_here = row.get("mac") and row.get("mac_key") in keys.chain_key_order()
            if keyed_here and not keys.chain_mac_matches(row["hash"], row["mac"], key_id=row["mac_key"]):
                return f"audit row seq {seq}: mac does not match its hash (row not written by Vigil)"
        previous = row
    return None
