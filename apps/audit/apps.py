from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"

    def ready(self) -> None:
        from apps.audit.subscribers import record_every_event
        from apps.core.events import subscribe

        subscribe("*")(record_every_event)
