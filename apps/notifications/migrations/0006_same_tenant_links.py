from django.db import migrations, models

from apps.core.db import same_tenant, same_tenant_or_shipped


def unique_tenant_id(model_name: str, name: str) -> migrations.AddConstraint:
    """UNIQUE (tenant_id, id): the target of the children's composite foreign keys."""
    return migrations.AddConstraint(
        model_name=model_name, constraint=models.UniqueConstraint(fields=("tenant", "id"), name=name)
    )


class Migration(migrations.Migration):
    """Issue 8: every link between two tenant-owned rows of notifications stays in one tenant, in the database
    itself (composite foreign keys). An obligation's step is a shipped one or one of its own tenant's (a
    constraint trigger: shipped steps have no tenant). An outbox message of a notification carries its tenant,
    so the composite foreign key (MATCH SIMPLE, unchecked with a NULL tenant) always applies."""

    dependencies = [
        ("notifications", "0005_notice_copy_annual"),
        ("catalog", "0005_same_tenant_links"),
        ("response", "0008_same_tenant_links"),
    ]

    operations = [
        unique_tenant_id("authority", "notif_authority_tenant_id"),
        unique_tenant_id("course", "notif_course_tenant_id"),
        unique_tenant_id("notification", "notif_notification_tenant_id"),
        unique_tenant_id("obligation", "notif_obligation_tenant_id"),
        unique_tenant_id("outboxmessage", "notif_outbox_tenant_id"),
        unique_tenant_id("webhooksubscription", "notif_webhook_tenant_id"),
        migrations.AddConstraint(
            model_name="outboxmessage",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("notification__isnull", True), ("tenant__isnull", False), _connector="OR"
                ),
                name="notif_outbox_notification_has_tenant",
            ),
        ),
        same_tenant(
            "notifications_obligation",
            "incident_id",
            "response_incident",
            "notif_obligation_incident_same_tenant",
        ),
        same_tenant(
            "notifications_obligation",
            "authority_id",
            "notifications_authority",
            "notif_obligation_authority_same_tenant",
        ),
        same_tenant_or_shipped(
            "notifications_obligation", "step_id", "catalog_regimestep", "notif_obligation_step_same_tenant"
        ),
        same_tenant(
            "notifications_annualobligationincident",
            "obligation_id",
            "notifications_obligation",
            "notif_annual_obligation_same_tenant",
        ),
        same_tenant(
            "notifications_annualobligationincident",
            "incident_id",
            "response_incident",
            "notif_annual_incident_same_tenant",
        ),
        same_tenant(
            "notifications_notification",
            "incident_id",
            "response_incident",
            "notif_notification_incident_same_tenant",
        ),
        same_tenant(
            "notifications_outboxmessage",
            "notification_id",
            "notifications_notification",
            "notif_outbox_notification_same_tenant",
        ),
        same_tenant(
            "notifications_remindersent",
            "obligation_id",
            "notifications_obligation",
            "notif_remindersent_obligation_same_tenant",
        ),
        same_tenant(
            "notifications_trainingassignment",
            "course_id",
            "notifications_course",
            "notif_assignment_course_same_tenant",
        ),
        same_tenant(
            "notifications_webhookdelivery",
            "subscription_id",
            "notifications_webhooksubscription",
            "notif_webhookdelivery_subscription_same_tenant",
        ),
        same_tenant(
            "notifications_webhookdelivery",
            "message_id",
            "notifications_outboxmessage",
            "notif_webhookdelivery_message_same_tenant",
        ),
    ]
