from django.db import migrations

from apps.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [append_only("audit_auditentry"), append_only("audit_auditchainhead")]
