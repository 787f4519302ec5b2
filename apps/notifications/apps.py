from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"

    def ready(self) -> None:
        from apps.core.events import subscribe
        from apps.notifications import subscribers

        subscribe("incident.declared")(subscribers.sync_incident_obligations)
        subscribe("incident.flags_changed")(subscribers.sync_incident_obligations)
        # The notifications people choose in their preferences, from the changes that cause them.
        subscribe("incident.escalated")(subscribers.tell_executives_of_escalation)
        subscribe("incident.declared")(subscribers.tell_new_owner_and_team)
        subscribe("incident.updated")(subscribers.tell_new_owner_and_team)
        subscribe("action.created")(subscribers.tell_action_assignee)
        subscribe("action.updated")(subscribers.tell_action_assignee)
        subscribe("incident.transitioned")(subscribers.tell_team_of_transition)
        subscribe("obligation.created")(subscribers.tell_obligation_opened)
        subscribe("obligation.submitted")(subscribers.tell_notice_submitted)

        # A new e-mail address gets its confirmation link (apps/tenancy/email_verification.py).
        from apps.notifications.account_emails import send_email_confirmation

        subscribe("user.email_change_requested")(send_email_confirmation)

        # Training (ISO 27001 A.6.3): new members get the tenant's mandatory courses. The reminder tasks
        # live in their own module (beat names them), registered here.
        from apps.notifications import reminder_tasks  # noqa: F401
        from apps.notifications.training import assign_mandatory_courses

        subscribe("membership.created")(assign_mandatory_courses)

        # Outbound webhooks: every event whose verb is a webhook type writes its outbox messages.
        from apps.notifications.choices import WebhookEventType
        from apps.notifications.webhooks import webhook_on_event

        for event_type in WebhookEventType.values:
            subscribe(event_type)(webhook_on_event)

        # /readyz tells how outbound delivery goes (without failing readiness over it).
        from apps.core.readiness import readiness_detail
        from apps.notifications.selectors import outbox_health

        readiness_detail("outbox")(outbox_health)
