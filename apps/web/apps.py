from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "apps.web"
    label = "web"

    def ready(self) -> None:
        # The admin site (apps.tenancy, below this app) signs in through the same lockout as the pages
        # (apps/web/lockout.py: per username and address, and per address).
        from django.contrib import admin

        from apps.web.forms import AdminSignInForm

        admin.site.login_form = AdminSignInForm
