from django.db import migrations, models

from apps.core.db import same_tenant


class Migration(migrations.Migration):
    """Issue 8: a review belongs to an incident of its tenant, a corrective action to a review of its tenant,
    in the database itself (composite foreign keys onto UNIQUE (tenant_id, id))."""

    dependencies = [("reviews", "0001_initial"), ("response", "0008_same_tenant_links")]

    operations = [
        migrations.AddConstraint(
            model_name="review",
            constraint=models.UniqueConstraint(fields=("tenant", "id"), name="reviews_review_tenant_id"),
        ),
        same_tenant(
            "reviews_review", "incident_id", "response_incident", "reviews_review_incident_same_tenant"
        ),
        same_tenant(
            "reviews_correctiveaction", "review_id", "reviews_review", "reviews_action_review_same_tenant"
        ),
    ]
