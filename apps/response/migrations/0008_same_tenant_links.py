from django.db import migrations

from apps.core.db import same_tenant, same_tenant_or_shipped


class Migration(migrations.Migration):
    """Issue 8: an incident's children (team, timeline, actions, direct grants) belong to an incident of their
    own tenant, in the database itself: composite foreign keys onto response_incident's UNIQUE (tenant_id, id).
    Its category is a shipped one or one of its own tenant's (a constraint trigger: shipped categories have
    no tenant, so a composite foreign key cannot say it)."""

    dependencies = [("response", "0007_incident_created_index"), ("catalog", "0005_same_tenant_links")]

    operations = [
        same_tenant(
            "response_incidentteammember",
            "incident_id",
            "response_incident",
            "response_team_incident_same_tenant",
        ),
        same_tenant(
            "response_timelineentry",
            "incident_id",
            "response_incident",
            "response_timeline_incident_same_tenant",
        ),
        same_tenant(
            "response_responseaction",
            "incident_id",
            "response_incident",
            "response_action_incident_same_tenant",
        ),
        same_tenant(
            "response_incidentuserobjectpermission",
            "content_object_id",
            "response_incident",
            "response_usergrant_incident_same_tenant",
        ),
        same_tenant(
            "response_incidentgroupobjectpermission",
            "content_object_id",
            "response_incident",
            "response_groupgrant_incident_same_tenant",
        ),
        same_tenant_or_shipped(
            "response_incident", "category_id", "catalog_category", "response_incident_category_same_tenant"
        ),
    ]
