from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"

    def ready(self) -> None:
        from apps.core.events import subscribe
        from apps.notifications.subscribers import sync_incident_obligations

        subscribe("incident.declared")(sync_incident_obligations)
        subscribe("incident.flags_changed")(sync_incident_obligations)
