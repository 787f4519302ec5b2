"""Evidence bytes: the streaming upload handler, names, content types and the content-addressed store."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers
from rest_framework import exceptions, status

CHUNK_SIZE = 1024 * 1024
MAX_NAME_LENGTH = 150
# Room for the multipart envelope and the other form fields around the file.
FORM_OVERHEAD = 1024 * 1024


def evidence_storage() -> Storage:
    return storages["evidence"]


def storage_key_for(*, tenant_id, sha256: str) -> str:
    """Content-addressed: the same bytes of a tenant are one stored object, whatever their name."""
    return f"evidence/{tenant_id}/{sha256[:2]}/{sha256}"


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


class EvidenceUploadHandler(FileUploadHandler):
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


def sanitise_name(raw: str) -> str:
    """A file name safe to store, show and offer for download: the last path component only, no control
    or reserved characters, no leading dots (no traversal, no hidden files), length-capped."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if not name:
        name = "evidence"
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:20] if dot else ""
        name = (stem if dot else name)[: MAX_NAME_LENGTH - len(ext) - 1].rstrip() + (f".{ext}" if ext else "")
    return name


# Magic numbers of common types: (offset, signature, type). Checked in order; the first match wins.
_MAGIC: list[tuple[int, bytes, str]] = [
    (0, b"%PDF-", "application/pdf"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"BM", "image/bmp"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"PK\x05\x06", "application/zip"),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"BZh", "application/x-bzip2"),
    (0, b"\xfd7zXZ\x00", "application/x-xz"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"Rar!\x1a\x07", "application/vnd.rar"),
    (257, b"ustar", "application/x-tar"),
    (0, b"\x7fELF", "application/x-executable"),
    (0, b"MZ", "application/x-msdownload"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (0, b"\xd4\xc3\xb2\xa1", "application/vnd.tcpdump.pcap"),
    (0, b"\xa1\xb2\xc3\xd4", "application/vnd.tcpdump.pcap"),
    (0, b"\x0a\x0d\x0d\x0a", "application/x-pcapng"),
    (0, b"SQLite format 3\x00", "application/vnd.sqlite3"),
    (0, b"EVF\x09\x0d\x0a\xff\x00", "application/x-ewf"),
    (0, b"KDMV", "application/x-vmdk"),
    (0, b"conectix", "application/x-vhd"),
    (0, b"QFI\xfb", "application/x-qemu-disk"),
    (0, b"ElfFile\x00", "application/x-evtx"),
    (0, b"regf", "application/x-windows-registry"),
    (0, b"MDMP", "application/x-dmp"),
]
SNIFF_BYTES = 512


def sniff_content_type(head: bytes) -> str:
    """The type the bytes say they are (never trusted for rendering: downloads are attachments)."""
    for offset, signature, content_type in _MAGIC:
        if head[offset : offset + len(signature)] == signature:
            return content_type
    if not head:
        return ""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sniffing window's end is still text.
        if exc.start < len(head) - 4:
            return "application/octet-stream"
        text = head[: exc.start].decode("utf-8")
    stripped = text.lstrip("\ufeff \t\r\n").lower()
    if stripped.startswith(("from:", "received:", "return-path:")) or "\nmessage-id:" in stripped:
        return "message/rfc822"
    if stripped.startswith(("<!doctype html", "<html")):
        return "text/html"
    if stripped.startswith("<?xml"):
        return "application/xml"
    if stripped.startswith(("{", "[")):
        return "application/json"
    return "text/plain"


@dataclass(frozen=True)
class Rehash:
    sha256: str | None  # None: the stored object is missing
    size: int | None


def chunks_of(storage_key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    with evidence_storage().open(storage_key, "rb") as stored:
        while chunk := stored.read(chunk_size):
            yield chunk


def rehash(storage_key: str) -> Rehash:
    """Re-read the stored bytes in chunks (never the whole file in memory) and hash them."""
    digest, size = hashlib.sha256(), 0
    if not evidence_storage().exists(storage_key):
        return Rehash(sha256=None, size=None)
    try:
        for chunk in chunks_of(storage_key):
            digest.update(chunk)
            size += len(chunk)
    except FileNotFoundError:
        return Rehash(sha256=None, size=None)
    return Rehash(sha256=digest.hexdigest(), size=size)
