"""What a viewer receives, as text to search: headers, body, and every member of a zip (recursively)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from tests.confidentiality.world import ALLOWED, Marker


def _unzipped(data: bytes, name: str = "") -> list[tuple[str, bytes]]:
    if not data.startswith(b"PK\x03\x04"):
        return [(name, data)]
    parts = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.namelist():
            parts.append((f"{name}!{member}", member.encode()))
            parts.extend(_unzipped(archive.read(member), f"{name}!{member}"))
    return parts


def received(response) -> list[tuple[str, str]]:
    """(where, lower-cased text) for the headers and each part of the body."""
    streaming = getattr(response, "streaming", False)
    body = b"".join(response.streaming_content) if streaming else response.content
    headers = "\n".join(f"{key}: {value}" for key, value in response.items())
    parts = [("headers", headers.lower())]
    for where, data in _unzipped(body):
        parts.append((f"body{where}", data.decode("utf-8", errors="replace").lower()))
    return parts


@dataclass(frozen=True)
class Leak:
    secret: str
    viewer: str
    url: str
    what: str
    where: str
    status: int

    def line(self) -> str:
        return f"{self.secret} | {self.viewer} | {self.url} ({self.status}) | {self.what} | {self.where}"


def leaks_in(
    parts, *, viewer: str, url: str, name: str, status: int, markers: list[Marker], excused=None
) -> list[Leak]:
    """Every marker this viewer may not meet that the received parts carry. `excused(marker, viewer, name,
    text)` (name: the URL's name) may excuse an appearance that is no secret there (surfaces.excused)."""
    found = []
    for marker in markers:
        if viewer in ALLOWED[marker.secret]:
            continue
        for where, text in parts:
            if marker.value in text and not (excused and excused(marker, viewer, name, text)):
                found.append(Leak(marker.secret, viewer, url, marker.what, where, status))
                break
    return found


def markers_in(parts, markers: list[Marker]) -> set[str]:
    """The markers the received parts carry (for the controls)."""
    return {m.what for m in markers if any(m.value in text for _, text in parts)}
