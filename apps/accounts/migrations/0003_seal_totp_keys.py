"""Seal the TOTP keys already stored (apps/accounts/otp_at_rest.py): the database keeps ciphertexts only."""

from django.db import migrations


def seal_all(apps, schema_editor):
    from apps.accounts.otp_at_rest import is_sealed, seal

    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for device in TOTPDevice.objects.using(schema_editor.connection.alias).iterator():
        if not is_sealed(device.key):
            TOTPDevice.objects.using(schema_editor.connection.alias).filter(pk=device.pk).update(
                key=seal(device.key)
            )


def open_all(apps, schema_editor):
    from apps.accounts.otp_at_rest import is_sealed, unseal

    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for device in TOTPDevice.objects.using(schema_editor.connection.alias).iterator():
        if is_sealed(device.key):
            TOTPDevice.objects.using(schema_editor.connection.alias).filter(pk=device.pk).update(
                key=unseal(device.key)
            )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_credentials_and_pending_email"), ("otp_totp", "0003_add_timestamps")]

    operations = [migrations.RunPython(seal_all, open_all)]
