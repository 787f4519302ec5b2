from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    """Lists across many tenants read incidents newest first in index order (issue 7). Built
    concurrently: a populated table keeps taking writes while it is built."""

    atomic = False

    dependencies = [("response", "0006_incident_milestones")]

    operations = [
        AddIndexConcurrently(
            model_name="incident",
            index=models.Index(fields=["-created_at", "-id"], name="response_inc_created"),
        ),
    ]
