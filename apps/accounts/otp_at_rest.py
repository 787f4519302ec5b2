"""TOTP keys encrypted at rest and recovery codes kept as keyed digests (issue 14).

TOTP keys: the database holds only AES-256-GCM ciphertexts of the
authenticators' keys, sealed with a key it does not hold (settings.TOTP_ENCRYPTION_KEY, from the environment
or a key file; unset, derived from SECRET_KEY). Whoever lists `otp_totp_totpdevice` with the app's database
role gets nothing that computes a code.

django-otp's own model reads `device.key` (hex) to verify a code; the signals below keep it plaintext in
memory only: opened when a row is loaded (post_init), sealed just before a save writes it and opened again
after. Rows from before (plain hex) are sealed by migration accounts 0003 and read as they are until then.

Recovery codes (otp_static's StaticToken, looked up by value): the row holds `recovery_digest(code)`, an
HMAC-SHA256 with the same key truncated to the column's 16 characters, and a code is verified by its
digest (apps/accounts/second_factor.py): a listed digest signs nobody in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

PREFIX = "v1$"
_CONTEXT = b"vigil totp key"
MAX_STORED = 80  # django-otp's column (a 20-byte key, Vigil's default, seals to 67 characters)


def _cipher() -> AESGCM:
    return AESGCM(hashlib.sha256(b"vigil totp at rest:" + settings.TOTP_ENCRYPTION_KEY).digest())


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def seal(hex_key: str) -> str:
    nonce = os.urandom(12)
    sealed = _cipher().encrypt(nonce, bytes.fromhex(hex_key), _CONTEXT)
    stored = PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    if len(stored) > MAX_STORED:
        raise ValueError(f"a TOTP key of {len(hex_key) // 2} bytes does not fit sealed; Vigil's are 20")
    return stored


def unseal(stored: str) -> str:
    if not is_sealed(stored):
        return stored  # a row from before this (plain hex), until migration 0003 seals it
    raw = base64.urlsafe_b64decode(stored[len(PREFIX) :] + "=" * (-len(stored[len(PREFIX) :]) % 4))
    return _cipher().decrypt(raw[:12], raw[12:], _CONTEXT).hex()


def recovery_digest(code: str) -> str:
    """The stored form of a (normalised) recovery code."""
    digest = hmac.new(settings.TOTP_ENCRYPTION_KEY, b"vigil recovery code:" + code.encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


def _opened(sender, instance, **kwargs) -> None:
    stored = instance.__dict__.get("key")  # never load a deferred key here
    if isinstance(stored, str) and is_sealed(stored):
        instance.key = unseal(stored)


def _sealing(sender, instance, update_fields=None, **kwargs) -> None:
    if update_fields is not None and "key" not in update_fields:
        return
    plain = instance.__dict__.get("key")
    if isinstance(plain, str) and not is_sealed(plain):
        instance._vigil_plain_key = plain
        instance.key = seal(plain)


def _sealed(sender, instance, **kwargs) -> None:
    plain = instance.__dict__.pop("_vigil_plain_key", None)
    if plain is not None:
        instance.key = plain


def connect() -> None:
    from django.db.models.signals import post_init, post_save, pre_save
    from django_otp.plugins.otp_totp.models import TOTPDevice

    post_init.connect(_opened, sender=TOTPDevice, dispatch_uid="vigil_totp_opened")
    pre_save.connect(_sealing, sender=TOTPDevice, dispatch_uid="vigil_totp_sealing")
    post_save.connect(_sealed, sender=TOTPDevice, dispatch_uid="vigil_totp_sealed")
