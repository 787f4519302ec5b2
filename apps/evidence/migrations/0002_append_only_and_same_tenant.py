from django.db import migrations

from apps.core.db import append_only


def same_tenant(table: str, column: str, target: str, name: str) -> migrations.RunSQL:
    """A composite foreign key (tenant_id, <column>) → <target>(tenant_id, id): the database itself refuses
    a link to another tenant's row (as reporting's same-tenant links)."""
    return migrations.RunSQL(
        sql=f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (tenant_id, {column}) "
        f"REFERENCES {target} (tenant_id, id);",
        reverse_sql=f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name};",
    )


# Evidence rows are append-only for their content: DELETE is refused, and so is any UPDATE that changes a
# column other than the latest verification's (last_verified_at, last_verification_ok).
EVIDENCE_CONTENT_IMMUTABLE = migrations.RunSQL(
    sql="""
CREATE OR REPLACE FUNCTION evidence_refuse_content_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'table % is append-only: DELETE refused', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (to_jsonb(OLD) - 'last_verified_at' - 'last_verification_ok')
        IS DISTINCT FROM (to_jsonb(NEW) - 'last_verified_at' - 'last_verification_ok') THEN
        RAISE EXCEPTION 'evidence content is immutable: only the verification columns may change'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER evidence_evidence_content_immutable BEFORE UPDATE OR DELETE ON evidence_evidence
    FOR EACH ROW EXECUTE FUNCTION evidence_refuse_content_change();
""",
    reverse_sql="DROP TRIGGER IF EXISTS evidence_evidence_content_immutable ON evidence_evidence;",
)


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0001_initial"),
        ("reporting", "0002_same_tenant_links"),
        ("response", "0001_initial"),
    ]

    operations = [
        EVIDENCE_CONTENT_IMMUTABLE,
        append_only("evidence_custodyevent"),
        same_tenant("evidence_evidence", "incident_id", "response_incident", "evidence_incident_same_tenant"),
        same_tenant("evidence_evidence", "report_id", "reporting_report", "evidence_report_same_tenant"),
        same_tenant("evidence_evidence", "supersedes_id", "evidence_evidence", "evidence_supersedes_same_tenant"),
        same_tenant("evidence_custodyevent", "evidence_id", "evidence_evidence", "evidence_custody_same_tenant"),
    ]
