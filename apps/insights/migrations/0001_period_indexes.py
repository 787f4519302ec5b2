"""Indexes for the insights reports (ISO 27001 evidence report, metrics, dashboard; issue 7).

Every figure of apps.insights reads the tenants' rows of a period by a date column; these indexes start
with the tenant and that date, so a report costs what the tenants' period holds, not what the table holds.
They live here, beside the queries that need them, as plain SQL: the models they index belong to other
apps and are not changed (no model state to migrate). `generate_data` drops and rebuilds them with the
other secondary indexes of the big tables.
"""

from django.db import migrations

INDEXES = [
    ("insights_incident_declared", "response_incident (tenant_id, declared_at)", ""),
    (
        "insights_incident_closed",
        "response_incident (tenant_id, closed_at)",
        "WHERE closed_at IS NOT NULL",
    ),
    ("insights_report_received", "reporting_report (tenant_id, received_at)", ""),
    # Only the entries the report counts (state changes, escalations, communications).
    (
        "insights_timeline_counted",
        "response_timelineentry (tenant_id, at)",
        "WHERE verb IN ('incident.transitioned', 'incident.escalated') OR kind = 'communication'",
    ),
    (
        "insights_action_completed",
        "response_responseaction (tenant_id, completed_at)",
        "WHERE completed_at IS NOT NULL",
    ),
    (
        "insights_review_completed",
        "reviews_review (tenant_id, completed_at)",
        "WHERE completed_at IS NOT NULL",
    ),
    ("insights_custody_at", "evidence_custodyevent (tenant_id, at)", ""),
]


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0002_append_only"),
        ("evidence", "0003_evidence_uploaded_index"),
        ("reporting", "0002_same_tenant_links"),
        ("response", "0007_incident_created_index"),
        ("reviews", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {target} {condition}".strip(),
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, target, condition in INDEXES
    ]
