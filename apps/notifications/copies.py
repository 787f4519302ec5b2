"""The attached copy of a notice that was sent: streamed, hashed and stored once, content-addressed.

Imitates apps.evidence.files without importing it (design.md: notifications and evidence are on the same
level): uploads stream to a temporary file chunk by chunk, hashing (SHA-256) and counting as they go, and
the bytes land in the "evidence" storage (settings.STORAGES) under `notices/<tenant>/<sha[:2]>/<sha>`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers
from rest_framework import exceptions, status

CHUNK_SIZE = 1024 * 1024
MAX_NAME_LENGTH = 150
FORM_OVERHEAD = 1024 * 1024  # the multipart envelope and the other fields around the file


def copy_storage() -> Storage:
    return storages["evidence"]


def copy_key_for(*, tenant_id, sha256: str) -> str:
    return f"notices/{tenant_id}/{sha256[:2]}/{sha256}"


class CopyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self, limit: int):
        super().__init__(f"The file is larger than the {limit}-byte limit.")


class HashedUpload(UploadedFile):
    """A temporary file on disk carrying the SHA-256 and size computed while it was written."""

    def __init__(self, name, content_type, charset, content_type_extra):
        directory = settings.EVIDENCE_UPLOAD_TEMP_DIR
        os.makedirs(directory, exist_ok=True)
        file = tempfile.NamedTemporaryFile(suffix=".upload", dir=directory)  # noqa: SIM115 - owned by self
        super().__init__(file, name, content_type, 0, charset, content_type_extra)
        self.sha256 = ""

    def temporary_file_path(self) -> str:
        return self.file.name

    def close(self):
        try:
            return self.file.close()
        except FileNotFoundError:
            pass


class CopyUploadHandler(FileUploadHandler):
    """Streams an uploaded copy to a temporary file, hashing and counting each chunk; refuses anything
    over EVIDENCE_MAX_BYTES (declared Content-Length first, the bytes actually received anyway)."""

    chunk_size = 256 * 1024

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = settings.EVIDENCE_MAX_BYTES

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.limit + FORM_OVERHEAD:
            raise CopyTooLarge(self.limit)

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.file = HashedUpload(self.file_name, self.content_type, self.charset, self.content_type_extra)
        self.digest = hashlib.sha256()
        self.received = 0
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.file.close()
            raise CopyTooLarge(self.limit)
        self.digest.update(raw_data)
        self.file.write(raw_data)

    def file_complete(self, file_size):
        self.file.seek(0)
        self.file.size = file_size
        self.file.sha256 = self.digest.hexdigest()
        return self.file


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def sanitise_name(raw: str) -> str:
    """The last path component, without control or reserved characters or leading dots, length-capped."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if not name:
        name = "notice"
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:20] if dot else ""
        name = (stem if dot else name)[: MAX_NAME_LENGTH - len(ext) - 1].rstrip() + (f".{ext}" if ext else "")
    return name


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
    if not sha256:  # not streamed through CopyUploadHandler: hash it here, chunk by chunk
        sha256, size = _hash(file)
    if size > settings.EVIDENCE_MAX_BYTES:
        raise CopyTooLarge(settings.EVIDENCE_MAX_BYTES)
    if not size:
        raise ValidationError({"copy": ["The file is empty."]})
    storage = copy_storage()
    key = copy_key_for(tenant_id=tenant_id, sha256=sha256)
    if not storage.exists(key):
        file.seek(0)
        # A concurrent upload of the same bytes may win: the storage then picks another free name, which
        # is recorded as this copy's key (never an overwrite).
        key = storage.save(key, file)
    return StoredCopy(name=sanitise_name(file.name), sha256=sha256, size=size, storage_key=key)


def chunks_of(storage_key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    with copy_storage().open(storage_key, "rb") as stored:
        while chunk := stored.read(chunk_size):
            yield chunk


def attachment_headers(name: str) -> dict[str, str]:
    """Save, never render: `attachment` with an ASCII fallback and the exact UTF-8 name, no sniffing."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in name) or "notice"
    exact = quote(name, safe="")
    return {
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
