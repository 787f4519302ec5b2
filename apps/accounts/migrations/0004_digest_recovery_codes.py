"""Keep the recovery codes already stored as keyed digests (apps/accounts/otp_at_rest.py). Codes are 8
characters; a digest is 16: what is stored with another length is a code from before."""

from django.db import migrations


def digest_all(apps, schema_editor):
    from apps.accounts.otp_at_rest import recovery_digest

    StaticToken = apps.get_model("otp_static", "StaticToken")
    tokens = StaticToken.objects.using(schema_editor.connection.alias)
    for token in tokens.iterator():
        if len(token.token) != 16:
            tokens.filter(pk=token.pk).update(token=recovery_digest(token.token.lower()))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_seal_totp_keys"), ("otp_static", "0003_add_timestamps")]

    # A digest cannot be turned back into its code: going back leaves them (people make new codes).
    operations = [migrations.RunPython(digest_all, migrations.RunPython.noop)]
