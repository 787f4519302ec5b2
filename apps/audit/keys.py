"""The audit trail's two keys, both held by the application, never by the database (settings, README
"Audit trail"):

- the chain key (HMAC-SHA256): every row's `mac` keys its SHA-256 `hash`, so a row that someone with write
  access to the database appends, however correctly hashed, does not verify (`verify_audit`);
- the checkpoint key (Ed25519): signs the chain heads recorded daily, so an auditor verifies a head offline
  with the public key and standard tools (openssl), without the database or the chain key.

Each key is named by a short id (a fingerprint, not the key) stored next to what it made, so a verifier
configured with another key says so instead of calling every row forged."""

from __future__ import annotations

import hashlib
import hmac
from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAC_SCHEME = "hmac-sha256"


def _fingerprint(material: bytes) -> str:
    return hashlib.sha256(material).hexdigest()[:16]


def _chain_key_id(key: bytes) -> str:
    return _fingerprint(b"vigil audit chain key id:" + key)


def chain_key_id() -> str:
    return _chain_key_id(settings.AUDIT_CHAIN_KEY)


def chain_key_order() -> list[str]:
    """The ids of the chain keys that verify rows, in the order they were in use: the retired ones
    (settings.AUDIT_CHAIN_RETIRED_KEYS, oldest first), then the configured one."""
    return [_chain_key_id(key) for key in _chain_keys()]


def _chain_keys() -> tuple[bytes, ...]:
    return (*settings.AUDIT_CHAIN_RETIRED_KEYS, settings.AUDIT_CHAIN_KEY)


def chain_mac(row_hash: str, *, key: bytes | None = None) -> str:
    """HMAC-SHA256 of a row's hash (which covers its content, chain, seq and previous hash)."""
    return hmac.new(key or settings.AUDIT_CHAIN_KEY, row_hash.encode(), hashlib.sha256).hexdigest()


def chain_mac_matches(row_hash: str, mac: str, *, key_id: str | None = None) -> bool:
    """The mac is the one the key `key_id` (the configured key by default) gives; False for a key unknown."""
    known = {_chain_key_id(key): key for key in _chain_keys()}
    key = known.get(key_id or chain_key_id())
    return key is not None and hmac.compare_digest(chain_mac(row_hash, key=key), mac or "")


@cache
def _signing_key(material: bytes) -> Ed25519PrivateKey:
    if material.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_private_key(material, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured("AUDIT_SIGNING_KEY must be an Ed25519 private key (PEM)")
        return key
    if len(material) == 32:  # derived from SECRET_KEY (settings): the seed itself
        return Ed25519PrivateKey.from_private_bytes(material)
    raise ImproperlyConfigured(
        "AUDIT_SIGNING_KEY must be an Ed25519 private key in PEM form "
        "(openssl genpkey -algorithm ed25519 -out audit-signing.pem)"
    )


def signing_key() -> Ed25519PrivateKey:
    return _signing_key(settings.AUDIT_SIGNING_KEY)


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def public_key_pem() -> bytes:
    return public_key().public_bytes(
        encoding=serialization.Encoding.PEM, format=serialization.PublicFormat.SubjectPublicKeyInfo
    )


def signing_key_id() -> str:
    raw = public_key().public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    return _fingerprint(raw)


def sign(data: bytes) -> bytes:
    """A raw 64-byte Ed25519 signature (what `openssl pkeyutl -verify -rawin -sigfile` reads)."""
    return signing_key().sign(data)


def signature_valid(*, document: bytes, signature: bytes, key: Ed25519PublicKey | None = None) -> bool:
    """Whether `signature` is an Ed25519 signature over exactly `document` (what openssl checks offline), by
    `key` (one an extract carries) or, by default, the configured one."""
    from cryptography.exceptions import InvalidSignature

    try:
        (key or public_key()).verify(signature, document)
    except InvalidSignature:
        return False
    return True
