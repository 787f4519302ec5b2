from django.db import migrations

from apps.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("response", "0002_incident_affected_data_subjects_and_more")]

    operations = [append_only("response_timelineentry")]
