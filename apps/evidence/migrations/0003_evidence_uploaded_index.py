from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    """The evidence list across many tenants reads items newest first in index order (issue 7). Built
    concurrently: a populated table keeps taking writes while it is built."""

    atomic = False

    dependencies = [("evidence", "0002_append_only_and_same_tenant")]

    operations = [
        AddIndexConcurrently(
            model_name="evidence",
            index=models.Index(fields=["-uploaded_at", "-id"], name="evidence_uploaded"),
        ),
    ]
