"""Uploaded files that must hold up later: streamed to disk while hashed (SHA-256) and counted, never
held in memory whole; safe names; download headers that make a browser save, never render. Shared by the
evidence intake and the notice copies of notifications (apps on one level do not import each other)."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from urllib.parse import quote

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers
from rest_framework import exceptions, status

CHUNK_SIZE = 1024 * 1024
MAX_NAME_LENGTH = 150
# Room for the multipart envelope and the other form fields around the file.
FORM_OVERHEAD = 1024 * 1024


class UploadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self, limit: int):
        super().__init__(f"The file is larger than the {limit}-byte limit for evidence.")


class HashingUploadedFile(UploadedFile):
    """A temporary file on disk (like Django's TemporaryUploadedFile, in EVIDENCE_UPLOAD_TEMP_DIR) that also
    carries the SHA-256 and size computed while it was written."""

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
            pass  # moved into the storage already


class HashingUploadHandler(FileUploadHandler):
    """Streams each uploaded file to a temporary file chunk by chunk, hashing (SHA-256) and counting as
    it goes: the bytes are never in memory all at once. Refuses anything over EVIDENCE_MAX_BYTES, from the
    declared Content-Length first and from the bytes actually received anyway."""

    chunk_size = 256 * 1024

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = settings.EVIDENCE_MAX_BYTES

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.limit + FORM_OVERHEAD:
            raise UploadTooLarge(self.limit)

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.file = HashingUploadedFile(
            self.file_name, self.content_type, self.charset, self.content_type_extra
        )
        self.digest = hashlib.sha256()
        self.received = 0
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.file.close()  # the temporary file is removed with it
            raise UploadTooLarge(self.limit)
        self.digest.update(raw_data)
        self.file.write(raw_data)

    def file_complete(self, file_size):
        self.file.seek(0)
        self.file.size = file_size
        self.file.sha256 = self.digest.hexdigest()
        return self.file


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def sanitise_name(raw: str, *, default: str = "file") -> str:
    """A file name safe to store, show and offer for download: the last path component only, no control
    or reserved characters, no leading dots (no traversal, no hidden files), length-capped."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if not name:
        name = default
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:20] if dot else ""
        name = (stem if dot else name)[: MAX_NAME_LENGTH - len(ext) - 1].rstrip() + (f".{ext}" if ext else "")
    return name


def attachment_headers(name: str) -> dict[str, str]:
    """Headers that make a browser save, never render, the bytes: `attachment` with an ASCII fallback
    name and the exact UTF-8 name (RFC 6266 / RFC 5987 `filename*`), no content sniffing, no scripts."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in name) or "file"
    exact = quote(name, safe="")
    return {
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
