"""Evidence bytes: the streaming upload handler, names, content types and the content-addressed store."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.files.storage import Storage, storages

from apps.core.files import CHUNK_SIZE


def evidence_storage() -> Storage:
    return storages["evidence"]


def storage_key_for(*, tenant_id, sha256: str) -> str:
    """Content-addressed: the same bytes of a tenant are one stored object, whatever their name."""
    return f"evidence/{tenant_id}/{sha256[:2]}/{sha256}"


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
