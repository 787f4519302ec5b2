from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from apps.audit.models import GENESIS_HASH, PLATFORM_CHAIN, AuditChainHead, AuditEntry
from apps.core.events import DomainEvent


def chain_of(tenant_id) -> str:
    return str(tenant_id) if tenant_id else PLATFORM_CHAIN


def audit_record(*, event: DomainEvent) -> AuditEntry:
    """Append the event to its tenant's chain. Runs in the publishing transaction."""
    chain = chain_of(event.tenant_id)
    with connection.cursor() as cursor:
        # Writers of one chain take turns until commit, so seq and prev_hash never fork.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"audit:{chain}"])
    last = AuditEntry.unscoped.filter(chain=chain).order_by("-seq").values("seq", "hash").first()
    entry = AuditEntry(
        chain=chain,
        seq=(last["seq"] + 1) if last else 1,
        at=timezone.now(),
        tenant_id=event.tenant_id,
        actor_id=event.actor_id,
        actor_repr=event.actor_repr[:150],
        verb=event.verb,
        target_type=event.target_type,
        target_id=event.target_id,
        target_repr=event.target_repr,
        incident_id=event.incident_id,
        changes=event.changes,
        data=event.data,
        channel=event.origin.channel,
        ip=event.origin.ip,
        user_agent=event.origin.user_agent,
        confidential=event.confidential,
        prev_hash=last["hash"] if last else GENESIS_HASH,
    )
    entry.hash = entry.compute_hash()
    entry.save(force_insert=True)
    return entry


@transaction.atomic
def audit_record_chain_heads() -> int:
    """Record every chain's current head (run daily by Celery beat)."""
    heads = AuditEntry.unscoped.values("chain").annotate(last_seq=Max("seq"))
    rows = []
    for head in heads:
        last = AuditEntry.unscoped.get(chain=head["chain"], seq=head["last_seq"])
        rows.append(AuditChainHead(chain=last.chain, seq=last.seq, hash=last.hash))
    AuditChainHead.objects.bulk_create(rows)
    return len(rows)
