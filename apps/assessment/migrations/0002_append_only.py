from django.db import migrations

from apps.core.db import append_only


def same_tenant(column: str, target: str) -> migrations.RunSQL:
    """A composite foreign key (tenant_id, <column>) → <target>(tenant_id, id): a decision never points at
    another tenant's report or incident, whatever writes it."""
    name = f"assessment_{column}_same_tenant"
    return migrations.RunSQL(
        sql=f"ALTER TABLE assessment_assessment ADD CONSTRAINT {name} FOREIGN KEY (tenant_id, {column}) "
        f"REFERENCES {target} (tenant_id, id);",
        reverse_sql=f"ALTER TABLE assessment_assessment DROP CONSTRAINT IF EXISTS {name};",
    )


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial"), ("reporting", "0002_same_tenant_links")]

    operations = [
        append_only("assessment_assessment"),
        same_tenant("report_id", "reporting_report"),
        same_tenant("duplicate_of_id", "reporting_report"),
        same_tenant("incident_id", "response_incident"),
    ]
