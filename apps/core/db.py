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
