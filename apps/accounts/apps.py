from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"

    def ready(self) -> None:
        # django-otp registers its devices on the admin site, where a platform administrator could read
        # anyone's TOTP key or QR code and delete devices unaudited. Devices are managed on each person's
        # Security page and reset with `manage.py reset_2fa` (audited) instead. The admin app is first in
        # INSTALLED_APPS, so its autodiscovery has run by now.
        from django.contrib import admin
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        for model in (TOTPDevice, StaticDevice):
            if admin.site.is_registered(model):
                admin.site.unregister(model)

        from apps.accounts import otp_at_rest

        otp_at_rest.connect()  # TOTP keys are stored sealed (issue 14)
