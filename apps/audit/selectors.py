from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Max, QuerySet

from apps.audit.models import GENESIS_HASH, AuditChainHead, AuditEntry
from apps.tenancy.access import Access
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


def audit_chain_verify(*, chain: str) -> ChainBreak | None:
    """Walk one chain in order, recomputing every hash; the first broken link, or None."""
    expected_prev, expected_seq = GENESIS_HASH, 1
    entries: Iterator[AuditEntry] = (
        AuditEntry.unscoped.filter(chain=chain).order_by("seq").iterator(chunk_size=2000)
    )
    for entry in entries:
        if entry.seq != expected_seq:
            return ChainBreak(chain, entry.id, expected_seq, f"row seq {expected_seq} is missing")
        if entry.prev_hash != expected_prev:
            return ChainBreak(chain, entry.id, entry.seq, "prev_hash does not match the previous row's hash")
        if entry.compute_hash() != entry.hash:
            return ChainBreak(chain, entry.id, entry.seq, "content does not match its hash (row edited)")
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    recorded = AuditChainHead.objects.filter(chain=chain).aggregate(top=Max("seq"))["top"]
    if recorded is not None and recorded >= expected_seq:
        return ChainBreak(
            chain, None, expected_seq, f"chain ends before its recorded head seq {recorded} (truncated)"
        )
    return None


def audit_chains() -> list[str]:
    chains = set(AuditEntry.unscoped.values_list("chain", flat=True).distinct())
    chains |= set(AuditChainHead.objects.values_list("chain", flat=True).distinct())
    return sorted(chains)
