"""The newest pending obligations first (the obligations list filtered by `status=pending` and a due date,
e.g. "due in the next 72 hours", across an executive's tenants; issue 7).

The list orders by (created_at, id) descending; without this index PostgreSQL gathers every pending
obligation of the tenants (100,000 at 1M incidents) and sorts them (80 ms); with it, it reads pending
obligations newest first and stops at the page (3.5 ms). Plain SQL here, beside the other scale indexes,
so as not to add a migration to apps.notifications while it is being changed elsewhere; it may move there.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0001_period_indexes"),
        ("notifications", "0005_notice_copy_annual"),
    ]

    operations = [
        migrations.RunSQL(
            sql="CREATE INDEX IF NOT EXISTS notif_obligation_pending_created"
            " ON notifications_obligation (created_at DESC, id DESC) WHERE status = 'pending'",
            reverse_sql="DROP INDEX IF EXISTS notif_obligation_pending_created",
        )
    ]
