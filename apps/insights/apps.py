from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "apps.insights"
    label = "insights"

    def ready(self) -> None:
        from apps.core.events import subscribe
        from apps.insights.cache import invalidate_on_commit

        subscribe("*")(invalidate_on_commit)
