"""The deadline engine: pure functions from a step's rule, an anchor and the tenant's calendar to a due time.

No database, no clock: everything it needs is passed in, so every rule of domain.md is unit-tested here.

- `calendar_hours`: absolute hours, counted in UTC, so daylight-saving changes neither add nor remove an
  hour (GDPR's 72 h are 72 real hours; Reg. 1182/71 Art. 3(4) does not extend hour periods).
- `calendar_days`: the same local wall-clock time N days later in the tenant's time zone.
- `business_days`: the anchor's day is day 0; count N working days (no weekend, no public holiday of the
  step's calendar) in the tenant's time zone; due at the end (23:59:59) of the Nth.
- `calendar_months`: the same local time N calendar months later, clamped to the month's end
  (31 Mar + 1 month = 30 Apr).
- `none`: no legal period; the tenant's internal SLA in hours (24 by default).
Then the adjustments: a factor such as LGPD's "x2 when tenant:lgpd_small_agent" multiplies the duration,
and DORA's weekend roll moves a deadline falling on a weekend or bank holiday to 12:00 the next working day.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays as holidays_lib

DEFAULT_INTERNAL_SLA_HOURS = 24
END_OF_DAY = time(23, 59, 59)
NOON = time(12, 0)
ROLL_ALWAYS = "noon_next_working_day"
ROLL_IF_ELIGIBLE = "noon_next_working_day_if_eligible"
ROLL_ELIGIBILITY_FACT = "dora_weekend_roll_eligible"
# holiday_country values that mean "the tenant's own country" (a Member State's bank holidays, a tenant's
# working days).
TENANT_COUNTRY = {"member_state", "tenant"}
_FACTOR = re.compile(r"^x(?P<factor>\d+)\s+when\s+(?P<negated>not\s+)?tenant:(?P<fact>[a-z0-9_]+)$")


class StepRule(Protocol):
    """What the engine reads of a step (apps.catalog.models.RegimeStep has these attributes)."""

    duration: int | None
    unit: str
    holiday_country: str
    weekend_roll: str
    adjustment: str


@dataclass(frozen=True)
class TenantCalendar:
    """The tenant's side of a deadline: where it works and what is true of it."""

    time_zone: str = "UTC"
    country: str = ""
    facts: Mapping[str, object] = field(default_factory=dict)
    internal_sla_hours: int = DEFAULT_INTERNAL_SLA_HOURS
    extra_holidays: Collection[date] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone or "UTC")

    @classmethod
    def of(cls, tenant) -> TenantCalendar:
        """From a Tenant: its time zone and country, and its settings' `facts`, `internal_sla_hours` and
        `holidays` (extra non-working days, ISO dates)."""
        settings = tenant.settings or {}
        extra = set()
        for raw in settings.get("holidays", []) or []:
            try:
                extra.add(date.fromisoformat(str(raw)))
            except ValueError:
                continue  # a malformed entry must not stop every clock of the tenant
        return cls(
            time_zone=tenant.time_zone or "UTC",
            country=tenant.country or "",
            facts=dict(settings.get("facts", {}) or {}),
            internal_sla_hours=int(settings.get("internal_sla_hours") or DEFAULT_INTERNAL_SLA_HOURS),
            extra_holidays=frozenset(extra),
        )


class HolidayCalendar:
    """Non-working days: weekends, the public holidays of one country (the `holidays` package), and any
    extra days the tenant added."""

    def __init__(self, country: str = "", extra: Collection[date] = ()):
        self.country = country
        self.extra = frozenset(extra)

    def is_holiday(self, day: date) -> bool:
        return day in self.extra or (bool(self.country) and day in _public_holidays(self.country, day.year))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and not self.is_holiday(day)

    def next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


@lru_cache(maxsize=256)
def _public_holidays(country: str, year: int):
    try:
        return holidays_lib.country_holidays(country, years=year)
    except NotImplementedError:  # a country the package does not know: weekends only
        return {}


def holiday_calendar(holiday_country: str, tenant: TenantCalendar) -> HolidayCalendar:
    country = tenant.country if holiday_country in TENANT_COUNTRY else holiday_country
    return HolidayCalendar((country or "").upper(), tenant.extra_holidays)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("deadlines are computed from aware datetimes only")
    return moment.astimezone(UTC)


def add_calendar_hours(anchor: datetime, hours: int) -> datetime:
    return _utc(anchor) + timedelta(hours=hours)


def add_calendar_days(anchor: datetime, days: int, zone: ZoneInfo) -> datetime:
    local = _utc(anchor).astimezone(zone)
    target = datetime.combine(local.date() + timedelta(days=days), local.time().replace(tzinfo=None))
    return target.replace(tzinfo=zone).astimezone(UTC)


def add_calendar_months(anchor: datetime, months: int, zone: ZoneInfo) -> datetime:
    local = _utc(anchor).astimezone(zone)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    target = datetime.combine(date(year, month, day), local.time().replace(tzinfo=None))
    return target.replace(tzinfo=zone).astimezone(UTC)


def add_business_days(anchor: datetime, days: int, zone: ZoneInfo, holidays: HolidayCalendar) -> datetime:
    day = _utc(anchor).astimezone(zone).date()
    for _ in range(days):
        day = holidays.next_working_day(day)
    return datetime.combine(day, END_OF_DAY).replace(tzinfo=zone).astimezone(UTC)


def roll_to_noon_next_working_day(due: datetime, zone: ZoneInfo, holidays: HolidayCalendar) -> datetime:
    """DORA (Del. Reg. 2025/301 Art. 5(4)-(6)): a deadline on a weekend or bank holiday may be met by 12:00
    of the next working day. A deadline on a working day stays."""
    local_day = _utc(due).astimezone(zone).date()
    if holidays.is_working_day(local_day):
        return _utc(due)
    return datetime.combine(holidays.next_working_day(local_day), NOON).replace(tzinfo=zone).astimezone(UTC)


def duration_factor(adjustment: str, facts: Mapping[str, object]) -> int:
    """`x2 when tenant:lgpd_small_agent` → 2 when the fact holds, else 1. Other adjustments are notes."""
    match = _FACTOR.match((adjustment or "").strip())
    if not match:
        return 1
    holds = bool(facts.get(match["fact"]))
    if match["negated"]:
        holds = not holds
    return int(match["factor"]) if holds else 1


def rolls_on_weekends(weekend_roll: str, facts: Mapping[str, object]) -> bool:
    if weekend_roll == ROLL_ALWAYS:
        return True
    if weekend_roll == ROLL_IF_ELIGIBLE:
        return bool(facts.get(ROLL_ELIGIBILITY_FACT))
    return False


def due_at(step: StepRule, anchor: datetime | None, tenant: TenantCalendar) -> datetime | None:
    """When the notice is due, in UTC; None while the anchor is not known."""
    if anchor is None:
        return None
    zone = tenant.zone
    holidays = holiday_calendar(step.holiday_country, tenant)
    if step.unit == "none" or step.duration is None:
        due = add_calendar_hours(anchor, tenant.internal_sla_hours)
    else:
        amount = step.duration * duration_factor(step.adjustment, tenant.facts)
        if step.unit == "calendar_hours":
            due = add_calendar_hours(anchor, amount)
        elif step.unit == "calendar_days":
            due = add_calendar_days(anchor, amount, zone)
        elif step.unit == "business_days":
            due = add_business_days(anchor, amount, zone, holidays)
        elif step.unit == "calendar_months":
            due = add_calendar_months(anchor, amount, zone)
        else:
            raise ValueError(f"unknown unit {step.unit!r}")
    if rolls_on_weekends(step.weekend_roll, tenant.facts):
        due = roll_to_noon_next_working_day(due, zone, holidays)
    return due
