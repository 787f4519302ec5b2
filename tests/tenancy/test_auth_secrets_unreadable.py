"""TOTP keys, recovery codes, sessions and token digests are not readable by the app's database role beyond
what signing in needs (issue 14): listed with raw SQL as that role, sessions and token digests are refused,
TOTP keys are ciphertexts, recovery codes keyed digests. Signing in with each still works."""

from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import otp_at_rest
from apps.accounts.second_factor import recovery_codes_regenerate, second_factor_verify
from tests.two_factor import authenticator_for, code_for_key, totp_code


def _raw(sql: str) -> list:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == connection.settings_dict["USER"]  # the runtime role, not the owner
        cursor.execute(sql)
        return cursor.fetchall()


def test_the_app_role_cannot_list_token_digests_yet_a_token_signs_in(handler, api_client_for):
    client = api_client_for(handler)
    with pytest.raises(DatabaseError, match="permission denied"):
        _raw("SELECT key_hash FROM tenancy_apitoken")
    with pytest.raises(DatabaseError, match="permission denied"):
        _raw("SELECT * FROM tenancy_apitoken")
    with pytest.raises(DatabaseError, match="permission denied"):  # nor probe them in a condition
        _raw("SELECT id FROM tenancy_apitoken WHERE key_hash LIKE 'a%%'")
    assert len(_raw("SELECT id, name, key_prefix FROM tenancy_apitoken")) == 1
    assert client.get("/api/v1/reports/").status_code == 200


def test_sessions_are_not_in_the_database_and_the_app_role_may_not_read_its_table(
    verified_client_for, manager
):
    client = verified_client_for(manager)
    assert client.get("/").status_code == 200  # a signed-in, verified page
    with pytest.raises(DatabaseError, match="permission denied"):
        _raw("SELECT session_key, session_data FROM django_session")
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cache"
    assert cache.get(f"django.contrib.sessions.cache{client.cookies['sessionid'].value}") is not None


def test_totp_keys_are_stored_sealed_and_still_verify_codes(manager):
    device = authenticator_for(manager)
    plain = device.key
    assert len(plain) == 40
    [(stored,)] = _raw("SELECT key FROM otp_totp_totpdevice")
    assert stored.startswith(otp_at_rest.PREFIX)
    assert plain not in stored
    assert bytes.fromhex(plain).hex() not in stored.lower()
    loaded = TOTPDevice.objects.get(pk=device.pk)
    assert loaded.key == plain
    assert loaded.verify_token(totp_code(loaded))
    loaded.save()  # a full save seals it again, and leaves the key usable in memory
    assert loaded.key == plain
    assert _raw("SELECT key FROM otp_totp_totpdevice")[0][0] != stored  # a fresh nonce


def test_the_migration_seals_keys_stored_before(manager):
    device = authenticator_for(manager)
    plain = device.key
    TOTPDevice.objects.filter(pk=device.pk).update(key=plain)  # as a row from before (no signal: plain)
    assert _raw("SELECT key FROM otp_totp_totpdevice") == [(plain,)]
    assert TOTPDevice.objects.get(pk=device.pk).key == plain  # read as it is until sealed
    migration = import_module("apps.accounts.migrations.0003_seal_totp_keys")
    migration.seal_all(apps, SimpleNamespace(connection=connection))
    [(stored,)] = _raw("SELECT key FROM otp_totp_totpdevice")
    assert stored.startswith(otp_at_rest.PREFIX)
    reloaded = TOTPDevice.objects.get(pk=device.pk)
    assert reloaded.key == plain
    assert reloaded.verify_token(code_for_key(bytes.fromhex(plain)))


def test_recovery_codes_are_stored_as_keyed_digests_and_still_sign_in(manager):
    authenticator_for(manager)
    codes = recovery_codes_regenerate(user=manager)
    stored = {token for (token,) in _raw("SELECT token FROM otp_static_statictoken")}
    assert len(stored) == len(codes) == 10
    assert not stored & set(codes)
    assert stored == {otp_at_rest.recovery_digest(code) for code in codes}
    assert isinstance(second_factor_verify(user=manager, code=codes[0].upper()), StaticDevice)
    assert second_factor_verify(user=manager, code=codes[0]) is None  # used up
    assert second_factor_verify(user=manager, code=otp_at_rest.recovery_digest(codes[1])) is None


def test_the_migration_digests_recovery_codes_stored_before(manager):
    authenticator_for(manager)
    codes = recovery_codes_regenerate(user=manager)
    before = StaticToken.objects.filter(token=otp_at_rest.recovery_digest(codes[0]))
    before.update(token=codes[0])  # as stored before
    migration = import_module("apps.accounts.migrations.0004_digest_recovery_codes")
    migration.digest_all(apps, SimpleNamespace(connection=connection))
    assert codes[0] not in {token for (token,) in _raw("SELECT token FROM otp_static_statictoken")}
    assert isinstance(second_factor_verify(user=manager, code=codes[0]), StaticDevice)
