import json

from django.db import connection
from django.utils import timezone

from apps.audit import keys
from apps.audit.models import PLATFORM_CHAIN, AuditEntry
from apps.core.events import DomainEvent

# The columns vigil_audit_append() takes (apps/audit/migrations/0005_append_function.py).
_APPENDED = [
    "chain",
    "seq",
    "at",
    "tenant_id",
    "actor_id",
    "actor_repr",
    "verb",
    "target_type",
    "target_id",
    "target_repr",
    "incident_id",
    "changes",
    "data",
    "channel",
    "ip",
    "user_agent",
    "confidential",
    "prev_hash",
    "hash",
    "mac",
    "mac_key",
]


def chain_of(tenant_id) -> str:
    return str(tenant_id) if tenant_id else PLATFORM_CHAIN


def audit_record(*, event: DomainEvent) -> AuditEntry:
    """Append the event to its tenant's chain, in the publishing transaction (the app's connection).

    The app's role may not insert into the table: the database function vigil_audit_head() takes the
    chain's turn (writers of one chain take turns until commit, so seq and prev_hash never fork) and
    returns its head, whatever the acting context may read; vigil_audit_append() inserts the row only if it
    extends that head. The hash is computed here and keyed with the chain key, which the database never
    sees (apps/audit/keys.py)."""
    chain = chain_of(event.tenant_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT head_seq, head_hash FROM vigil_audit_head(%s)", [chain])
        head_seq, head_hash = cursor.fetchone()
        entry = AuditEntry(
            chain=chain,
            seq=head_seq + 1,
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
            prev_hash=head_hash,
        )
        entry.hash = entry.compute_hash()
        entry.mac, entry.mac_key = keys.chain_mac(entry.hash), keys.chain_key_id()
        row = {column: getattr(entry, column) for column in _APPENDED}
        row["at"] = entry.at.isoformat()
        cursor.execute("SELECT vigil_audit_append(%s::jsonb)", [json.dumps(row, default=str)])
        entry.id = cursor.fetchone()[0]
    entry._state.adding, entry._state.db = False, connection.alias
    return entry
