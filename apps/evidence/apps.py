from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "apps.evidence"
    label = "evidence"

    def ready(self) -> None:
        from apps.core.events import subscribe
        from apps.evidence.subscribers import attachments_follow_their_report

        subscribe("report.triaged")(attachments_follow_their_report)
