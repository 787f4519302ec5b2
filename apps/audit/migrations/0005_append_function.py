"""The one way the app's role adds to the audit trail (it holds no INSERT on the table: apps.tenancy.rls).

vigil_audit_head(chain) takes the chain's turn (a transaction-scoped advisory lock: writers of one chain take
turns until commit) and returns its head; vigil_audit_append(row) inserts the row only if it extends that
head (next seq, previous hash) and carries a mac. Both run as the tables' owner (SECURITY DEFINER), so an
event of a tenant outside the acting context, or of the platform chain, is still recorded in the
publishing transaction. What the database cannot check is the mac: the chain key is not in it
(apps/audit/keys.py; verify_audit checks it). Also gives the recorded heads their tenant."""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION vigil_audit_head(p_chain text, OUT head_seq bigint, OUT head_hash text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('audit:' || p_chain, 0));
    SELECT entry.seq, entry.hash INTO head_seq, head_hash
    FROM audit_auditentry AS entry WHERE entry.chain = p_chain ORDER BY entry.seq DESC LIMIT 1;
    head_seq := coalesce(head_seq, 0);
    head_hash := coalesce(head_hash, repeat('0', 64));
END
$$;

CREATE OR REPLACE FUNCTION vigil_audit_append(entry jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    new_row audit_auditentry;
    head record;
    new_id bigint;
BEGIN
    new_row := jsonb_populate_record(NULL::audit_auditentry, entry);
    IF coalesce(new_row.mac, '') = '' OR coalesce(new_row.mac_key, '') = '' THEN
        RAISE EXCEPTION 'vigil_audit_append: an audit row needs its mac and key id'
            USING ERRCODE = 'check_violation';
    END IF;
    IF new_row.chain IS DISTINCT FROM coalesce(new_row.tenant_id::text, 'platform') THEN
        RAISE EXCEPTION 'vigil_audit_append: chain % is not the chain of tenant %',
            new_row.chain, new_row.tenant_id USING ERRCODE = 'check_violation';
    END IF;
    SELECT * INTO head FROM vigil_audit_head(new_row.chain);
    IF new_row.seq IS DISTINCT FROM head.head_seq + 1
        OR new_row.prev_hash IS DISTINCT FROM head.head_hash THEN
        RAISE EXCEPTION 'vigil_audit_append: row % does not extend chain % (head %)',
            new_row.seq, new_row.chain, head.head_seq USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO audit_auditentry (
        chain, seq, at, tenant_id, actor_id, actor_repr, verb, target_type, target_id, target_repr,
        incident_id, changes, data, channel, ip, user_agent, confidential, prev_hash, hash, mac, mac_key
    ) VALUES (
        new_row.chain, new_row.seq, new_row.at, new_row.tenant_id, new_row.actor_id, new_row.actor_repr,
        new_row.verb, new_row.target_type, new_row.target_id, new_row.target_repr, new_row.incident_id,
        coalesce(new_row.changes, '{}'::jsonb), coalesce(new_row.data, '{}'::jsonb), new_row.channel,
        new_row.ip, coalesce(new_row.user_agent, ''), coalesce(new_row.confidential, false),
        new_row.prev_hash, new_row.hash, new_row.mac, new_row.mac_key
    ) RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
"""

HEAD_TENANTS = """
ALTER TABLE audit_auditchainhead DISABLE TRIGGER audit_auditchainhead_append_only;
UPDATE audit_auditchainhead SET tenant_id = chain::uuid WHERE chain <> 'platform' AND tenant_id IS NULL;
ALTER TABLE audit_auditchainhead ENABLE TRIGGER audit_auditchainhead_append_only;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_keyed_chain_and_checkpoints")]

    operations = [
        migrations.RunSQL(
            FUNCTIONS,
            reverse_sql="DROP FUNCTION IF EXISTS vigil_audit_append(jsonb); "
            "DROP FUNCTION IF EXISTS vigil_audit_head(text);",
        ),
        migrations.RunSQL(HEAD_TENANTS, reverse_sql=migrations.RunSQL.noop),
    ]
