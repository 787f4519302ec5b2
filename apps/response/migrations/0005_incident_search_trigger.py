from django.db import migrations

TRIGGER = """
CREATE TRIGGER response_incident_search_vector
BEFORE INSERT OR UPDATE OF reference, title, description ON response_incident
FOR EACH ROW EXECUTE FUNCTION
tsvector_update_trigger(search_vector, 'pg_catalog.english', reference, title, description);
UPDATE response_incident SET title = title;
"""


class Migration(migrations.Migration):
    dependencies = [("response", "0004_incident_search")]

    operations = [
        migrations.RunSQL(TRIGGER, "DROP TRIGGER IF EXISTS response_incident_search_vector ON response_incident;")
    ]
