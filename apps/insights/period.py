from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError

from apps.core.times import EARLIEST


@dataclass(frozen=True)
class Period:
    """A reporting period of whole days, `start` inclusive and `end` exclusive, in UTC."""

    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=UTC)

    def as_dict(self) -> dict:
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}


def period_from(raw_from: str | None, raw_to: str | None, *, today: date | None = None) -> Period:
    """`from`/`to` as ISO dates (both inclusive); by default the last 365 days."""
    today = today or datetime.now(UTC).date()
    errors = {}
    parsed = {}
    for name, raw, default in (("from", raw_from, today - timedelta(days=364)), ("to", raw_to, today)):
        if not raw:
            parsed[name] = default
            continue
        try:
            parsed[name] = date.fromisoformat(raw)
        except ValueError:
            errors[name] = ["A date as YYYY-MM-DD."]
            continue
        # Plausible dates only (apps/core/times.py): year 9999 overflowed the end of the period (a 500).
        latest = today + timedelta(days=3660)
        if not EARLIEST.date() <= parsed[name] <= latest:
            errors[name] = [f"A date from {EARLIEST.date().isoformat()} to {latest.isoformat()}."]
    if errors:
        raise ValidationError(errors)
    if parsed["from"] > parsed["to"]:
        raise ValidationError({"from": ["Must not be after `to`."]})
    if (parsed["to"] - parsed["from"]).days > 3660:
        raise ValidationError({"from": ["A period of at most ten years."]})
    return Period(parsed["from"], parsed["to"])
