from django.db import migrations

from apps.core.db import same_tenant_or_shipped


class Migration(migrations.Migration):
    """Issue 8: a decision's category is a shipped one or one of the decision's own tenant's."""

    dependencies = [("assessment", "0002_append_only"), ("catalog", "0005_same_tenant_links")]

    operations = [
        same_tenant_or_shipped(
            "assessment_assessment", "category_id", "catalog_category", "assessment_category_id_same_tenant"
        ),
    ]
