from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        # Each app's `representations` module registers how its objects are shown outside (webhooks).
        autodiscover_modules("representations")
