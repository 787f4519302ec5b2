"""A small RFC 5545 writer: CRLF line endings, content lines folded at 75 octets (never inside a UTF-8
character), TEXT values escaped (backslash, semicolon, comma, newline), UTC date-times, display alarms
timed from an event's end."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

CRLF = "\r\n"
MAX_OCTETS = 75


def escape_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets; continuation lines start with one space
    (which counts towards their 75)."""
    encoded = line.encode()
    if len(encoded) <= MAX_OCTETS:
        return line
    chunks, start, limit = [], 0, MAX_OCTETS
    while start < len(encoded):
        end = min(start + limit, len(encoded))
        while end < len(encoded) and (encoded[end] & 0xC0) == 0x80:  # inside a UTF-8 sequence
            end -= 1
        chunks.append(encoded[start:end].decode())
        start, limit = end, MAX_OCTETS - 1
    return (CRLF + " ").join(chunks)


def before(delta: timedelta) -> str:
    """An RFC 5545 DURATION that long before: -PT24H, -PT90M."""
    minutes = int(delta.total_seconds() // 60)
    return f"-PT{minutes // 60}H" if minutes % 60 == 0 else f"-PT{minutes}M"


@dataclass(frozen=True)
class Alarm:
    """A DISPLAY alarm `before` the event's end (for a deadline: before it is due)."""

    before: timedelta
    description: str


@dataclass(frozen=True)
class Event:
    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str = ""
    url: str = ""
    categories: tuple[str, ...] = ()
    last_modified: datetime | None = None
    alarms: tuple[Alarm, ...] = ()


def _alarm_lines(alarm: Alarm) -> list[str]:
    return [
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{escape_text(alarm.description)}",
        f"TRIGGER;RELATED=END:{before(alarm.before)}",
        "END:VALARM",
    ]


def calendar(events: Iterable[Event], *, name: str, stamp: datetime) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Vigil//Deadlines//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{utc(stamp)}",
            f"DTSTART:{utc(event.start)}",
            f"DTEND:{utc(event.end)}",
            f"SUMMARY:{escape_text(event.summary)}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{escape_text(event.description)}")
        if event.url:
            lines.append(f"URL:{event.url}")
        if event.categories:
            lines.append("CATEGORIES:" + ",".join(escape_text(c) for c in event.categories))
        if event.last_modified:
            lines.append(f"LAST-MODIFIED:{utc(event.last_modified)}")
        lines.append("TRANSP:TRANSPARENT")
        for alarm in event.alarms:
            lines += _alarm_lines(alarm)
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)
