from django.db import migrations


def same_tenant(table: str, column: str, target: str, name: str) -> migrations.RunSQL:
    """A composite foreign key (tenant_id, <column>) → <target>(tenant_id, id): the database itself refuses
    a link to another tenant's row. Checked at once (not deferred), so tests see it too."""
    return migrations.RunSQL(
        sql=f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (tenant_id, {column}) "
        f"REFERENCES {target} (tenant_id, id);",
        reverse_sql=f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name};",
    )


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_initial")]

    operations = [
        same_tenant("reporting_report", "incident_id", "response_incident", "reporting_report_incident_same_tenant"),
        same_tenant(
            "reporting_report", "duplicate_of_id", "reporting_report", "reporting_report_duplicate_same_tenant"
        ),
    ]
