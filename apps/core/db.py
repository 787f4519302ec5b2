"""Database-level guarantees shared by apps' migrations."""

from django.db import migrations

_FUNCTION = """
CREATE OR REPLACE FUNCTION vigil_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def append_only(table: str) -> migrations.RunSQL:
    """Make `table` append-only in the database itself: UPDATE and DELETE raise, whoever sends them.

    TRUNCATE is left to privileges (the runtime role is not granted it), so test databases can be flushed.
    """
    trigger = f"{table}_append_only"
    return migrations.RunSQL(
        sql=_FUNCTION + f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION vigil_refuse_change();",
        reverse_sql=f"DROP TRIGGER IF EXISTS {trigger} ON {table};",
    )


def same_tenant(table: str, column: str, target: str, name: str) -> migrations.RunSQL:
    """A composite foreign key (tenant_id, <column>) → <target>(tenant_id, id): the database itself refuses
    a link to another tenant's row, whatever writes it. <target> needs a UNIQUE (tenant, id). Checked at
    once (not deferred); MATCH SIMPLE, so a NULL <column> (an optional link) satisfies it."""
    return migrations.RunSQL(
        sql=f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (tenant_id, {column}) "
        f"REFERENCES {target} (tenant_id, id);",
        reverse_sql=f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name};",
    )


# Reference data (categories, regimes and their steps) is shipped without a tenant and readable by every
# tenant, or added by one tenant for itself: a composite foreign key cannot express "shipped or mine", so a
# constraint trigger does. Arguments: the link column, the target table, and `shipped_or_same` (the target's
# tenant is NULL or the row's own) or `same` (the target's tenant IS NOT DISTINCT FROM the row's: a step
# repeats its regime's tenant). It runs as its owner (the tables' owner, who is not subject to row-level
# security) so that it judges the target row as it is, not as the acting role may see it; it reads only the
# target table its trigger names, in the schema of the trigger's table.
_SAME_TENANT_OR_SHIPPED_FUNCTION = """
CREATE OR REPLACE FUNCTION vigil_same_tenant_or_shipped() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target_id uuid := (to_jsonb(NEW) ->> TG_ARGV[0])::uuid;
    target_found boolean;
    target_tenant uuid;
BEGIN
    IF target_id IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT true, tenant_id FROM %I.%I WHERE id = $1', TG_TABLE_SCHEMA, TG_ARGV[1])
        INTO target_found, target_tenant USING target_id;
    IF target_found IS NULL
        OR (TG_ARGV[2] = 'same' AND target_tenant IS DISTINCT FROM NEW.tenant_id)
        OR (TG_ARGV[2] = 'shipped_or_same' AND target_tenant IS NOT NULL
            AND target_tenant IS DISTINCT FROM NEW.tenant_id) THEN
        RAISE EXCEPTION '%.% links to a row of % of another tenant', TG_TABLE_NAME, TG_ARGV[0], TG_ARGV[1]
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_NAME;
    END IF;
    RETURN NULL;
END;
$$;
"""

_REFUSE_TENANT_CHANGE_FUNCTION = """
CREATE OR REPLACE FUNCTION vigil_refuse_tenant_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the tenant of a row of % is fixed once written', TG_TABLE_NAME
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_NAME;
END;
$$;
"""


def same_tenant_or_shipped(
    table: str, column: str, target: str, name: str, *, mode: str = "shipped_or_same"
) -> migrations.RunSQL:
    """The link <table>.<column> → <target> (reference data with a nullable tenant) stays within the row's
    tenant or points at a shipped row (see _SAME_TENANT_OR_SHIPPED_FUNCTION). A constraint trigger: listed in
    pg_constraint like a foreign key, checked at the end of each statement."""
    assert mode in ("shipped_or_same", "same")
    return migrations.RunSQL(
        sql=_SAME_TENANT_OR_SHIPPED_FUNCTION
        + f"CREATE CONSTRAINT TRIGGER {name} AFTER INSERT OR UPDATE OF {column}, tenant_id ON {table} "
        f"FOR EACH ROW WHEN (NEW.{column} IS NOT NULL) "
        f"EXECUTE FUNCTION vigil_same_tenant_or_shipped('{column}', '{target}', '{mode}');",
        reverse_sql=f"DROP TRIGGER IF EXISTS {name} ON {table};",
    )


def tenant_fixed(table: str) -> migrations.RunSQL:
    """The tenant of a row of <table> never changes: what same_tenant_or_shipped() checked when a row linked
    to it stays true (a composite foreign key gets this from ON UPDATE NO ACTION)."""
    trigger = f"{table}_tenant_fixed"
    return migrations.RunSQL(
        sql=_REFUSE_TENANT_CHANGE_FUNCTION
        + f"CREATE TRIGGER {trigger} BEFORE UPDATE OF tenant_id ON {table} FOR EACH ROW "
        "WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) EXECUTE FUNCTION vigil_refuse_tenant_change();",
        reverse_sql=f"DROP TRIGGER IF EXISTS {trigger} ON {table};",
    )
