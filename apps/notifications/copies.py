"""The attached copy of a notice that was sent: streamed and hashed by apps.core.files, stored once,
content-addressed, in the "evidence" storage (settings.STORAGES) under `notices/<tenant>/<sha[:2]>/<sha>`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import Storage, storages

from apps.core.files import CHUNK_SIZE, UploadTooLarge, sanitise_name


def copy_storage() -> Storage:
    return storages["evidence"]


def copy_key_for(*, tenant_id, sha256: str) -> str:
    return f"notices/{tenant_id}/{sha256[:2]}/{sha256}"


@dataclass(frozen=True)
class StoredCopy:
    name: str
    sha256: str
    size: int
    storage_key: str


def _hash(file: File) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in file.chunks(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


def store_copy(*, tenant_id, file: File) -> StoredCopy:
    """Store the bytes once under their hash (identical bytes already stored are not written again)."""
    sha256 = getattr(file, "sha256", "")
    size = file.size
    if not sha256:  # not streamed through HashingUploadHandler: hash it here, chunk by chunk
        sha256, size = _hash(file)
    if size > settings.EVIDENCE_MAX_BYTES:
        raise UploadTooLarge(settings.EVIDENCE_MAX_BYTES)
    if not size:
        raise ValidationError({"copy": ["The file is empty."]})
    storage = copy_storage()
    key = copy_key_for(tenant_id=tenant_id, sha256=sha256)
    if not storage.exists(key):
        file.seek(0)
        # A concurrent upload of the same bytes may win: the storage then picks another free name, which
        # is recorded as this copy's key (never an overwrite).
        key = storage.save(key, file)
    return StoredCopy(
        name=sanitise_name(file.name, default="notice"), sha256=sha256, size=size, storage_key=key
    )


def chunks_of(storage_key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    with copy_storage().open(storage_key, "rb") as stored:
        while chunk := stored.read(chunk_size):
            yield chunk
