"""The deadline engine against domain.md: pure functions, plus a table-driven pass over every shipped step."""

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import apps.catalog
from apps.catalog.models import RegimeStep
from apps.notifications.applicability import applies
from apps.notifications.deadlines import (
    HolidayCalendar,
    TenantCalendar,
    add_calendar_months,
    due_at,
    roll_to_noon_next_working_day,
)

CSV = Path(apps.catalog.__file__).parent / "data" / "deadlines.csv"
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
FRANCE = TenantCalendar(time_zone="Europe/Paris", country="FR")


@dataclass
class Step:
    duration: int | None
    unit: str
    holiday_country: str = ""
    weekend_roll: str = ""
    adjustment: str = ""


def local(zone, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


def shipped(code: str) -> RegimeStep:
    return RegimeStep.unscoped.get(tenant=None, code=code)


# ----- units -------------------------------------------------------------------------------------


def test_hours_are_absolute_across_the_spring_dst_change():
    # 2026-03-29 02:00 CET → 03:00 CEST: 72 real hours from Saturday noon end at 13:00 wall-clock Tuesday.
    anchor = local(PARIS, 2026, 3, 28, 12, 0)
    due = due_at(Step(72, "calendar_hours"), anchor, FRANCE)
    assert due == datetime(2026, 3, 31, 11, 0, tzinfo=UTC)
    assert due.astimezone(PARIS) == local(PARIS, 2026, 3, 31, 13, 0)
    assert (due - anchor).total_seconds() == 72 * 3600


def test_hours_are_absolute_across_the_autumn_dst_change():
    anchor = local(PARIS, 2026, 10, 24, 12, 0)  # clocks go back on 25 Oct
    due = due_at(Step(24, "calendar_hours"), anchor, FRANCE)
    assert due.astimezone(PARIS) == local(PARIS, 2026, 10, 25, 11, 0)


def test_calendar_days_keep_the_local_time():
    anchor = local(PARIS, 2026, 3, 28, 12, 0)
    due = due_at(Step(3, "calendar_days"), anchor, FRANCE)
    assert due.astimezone(PARIS) == local(PARIS, 2026, 3, 31, 12, 0)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ((2026, 1, 31), 1, (2026, 2, 28)),
        ((2028, 1, 31), 1, (2028, 2, 29)),  # leap year
        ((2026, 3, 31), 1, (2026, 4, 30)),
        ((2026, 12, 15), 1, (2027, 1, 15)),
        ((2026, 8, 31), 6, (2027, 2, 28)),
    ],
)
def test_calendar_months_clamp_to_the_month_end(start, months, expected):
    due = add_calendar_months(local(PARIS, *start, 10, 0), months, PARIS)
    assert due.astimezone(PARIS) == local(PARIS, *expected, 10, 0)


def test_month_end_clamp_through_the_engine():
    due = due_at(Step(1, "calendar_months"), local(PARIS, 2026, 1, 31, 9, 30), FRANCE)
    assert due.astimezone(PARIS) == local(PARIS, 2026, 2, 28, 9, 30)


def test_none_is_the_internal_sla():
    anchor = local(PARIS, 2026, 5, 4, 9, 0)
    assert due_at(Step(None, "none"), anchor, FRANCE) == local(PARIS, 2026, 5, 5, 9, 0)
    strict = TenantCalendar(time_zone="Europe/Paris", internal_sla_hours=4)
    assert due_at(Step(None, "none"), anchor, strict) == local(PARIS, 2026, 5, 4, 13, 0)


def test_no_anchor_no_due():
    assert due_at(Step(72, "calendar_hours"), None, FRANCE) is None


def test_naive_anchors_are_refused():
    with pytest.raises(ValueError, match="aware"):
        due_at(Step(72, "calendar_hours"), datetime(2026, 1, 1, 12, 0), FRANCE)


# ----- business days and holidays ----------------------------------------------------------------

US_TENANT = TenantCalendar(time_zone="America/New_York", country="US")


@pytest.mark.django_db
def test_sec_8k_four_business_days_over_a_weekend_and_thanksgiving():
    # Determined Tuesday 24 Nov 2026; Thu 26 Nov is Thanksgiving; day 0 is the determination day:
    # Wed 25 (1), Fri 27 (2), Mon 30 (3), Tue 1 Dec (4).
    due = due_at(shipped("SEC-1"), local(NEW_YORK, 2026, 11, 24, 15, 0), US_TENANT)
    assert due.astimezone(NEW_YORK) == local(NEW_YORK, 2026, 12, 1, 23, 59, 59)


@pytest.mark.django_db
def test_sec_8k_over_a_plain_weekend():
    due = due_at(shipped("SEC-1"), local(NEW_YORK, 2026, 6, 11, 10, 0), US_TENANT)  # Thursday
    assert due.astimezone(NEW_YORK).date() == date(2026, 6, 17)  # Fri, Mon, Tue, Wed (Juneteenth is Fri 19)


@pytest.mark.django_db
def test_sec_8k_uses_us_holidays_whatever_the_tenants_country():
    french = TenantCalendar(time_zone="America/New_York", country="FR")
    due = due_at(shipped("SEC-1"), local(NEW_YORK, 2026, 11, 24, 15, 0), french)
    assert due.astimezone(NEW_YORK).date() == date(2026, 12, 1)


BRAZIL = TenantCalendar(time_zone="America/Sao_Paulo", country="BR")


@pytest.mark.django_db
def test_lgpd_three_business_days_over_a_brazilian_holiday():
    # Aware Thursday 19 Nov 2026; Fri 20 Nov is Black Awareness Day (national since 2024):
    # Mon 23 (1), Tue 24 (2), Wed 25 (3).
    due = due_at(shipped("BR-1"), local(SAO_PAULO, 2026, 11, 19, 9, 0), BRAZIL)
    assert due.astimezone(SAO_PAULO).date() == date(2026, 11, 25)


@pytest.mark.django_db
def test_lgpd_doubles_for_small_processing_agents():
    small = TenantCalendar(time_zone="America/Sao_Paulo", country="BR", facts={"lgpd_small_agent": True})
    due = due_at(shipped("BR-1"), local(SAO_PAULO, 2026, 11, 19, 9, 0), small)
    # 6 business days: Mon 23 … Fri 27 (5), Mon 30 (6).
    assert due.astimezone(SAO_PAULO).date() == date(2026, 11, 30)


def test_tenant_added_holidays_count_too():
    tenant = TenantCalendar(time_zone="Europe/Paris", country="FR", extra_holidays={date(2026, 6, 2)})
    due = due_at(Step(2, "business_days", holiday_country="tenant"), local(PARIS, 2026, 5, 29, 9, 0), tenant)
    # Fri 29 May; Mon 1 Jun (1); Tue 2 Jun is the tenant's holiday; Wed 3 Jun (2).
    assert due.astimezone(PARIS).date() == date(2026, 6, 3)


def test_an_unknown_country_falls_back_to_weekends_only():
    calendar = HolidayCalendar("ZZ")
    assert calendar.is_working_day(date(2026, 12, 25))
    assert not calendar.is_working_day(date(2026, 12, 26))


# ----- DORA ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dora_initial_four_hours_without_roll_for_a_non_eligible_entity():
    # Classified Saturday 10:00: due Saturday 14:00 (credit institutions get no weekend roll).
    due = due_at(shipped("DORA-1"), local(PARIS, 2026, 6, 6, 10, 0), FRANCE)
    assert due.astimezone(PARIS) == local(PARIS, 2026, 6, 6, 14, 0)


@pytest.mark.django_db
def test_dora_initial_rolls_to_noon_next_working_day_when_eligible():
    eligible = TenantCalendar(
        time_zone="Europe/Paris", country="FR", facts={"dora_weekend_roll_eligible": True}
    )
    due = due_at(shipped("DORA-1"), local(PARIS, 2026, 6, 6, 10, 0), eligible)
    assert due.astimezone(PARIS) == local(PARIS, 2026, 6, 8, 12, 0)  # Monday noon


@pytest.mark.django_db
def test_dora_final_report_always_rolls_over_a_bank_holiday():
    # Intermediate report submitted Tue 14 Apr 2026 → one month: Thu 14 May 2026 = Ascension (FR holiday).
    due = due_at(shipped("DORA-5"), local(PARIS, 2026, 4, 14, 16, 0), FRANCE)
    assert due.astimezone(PARIS) == local(PARIS, 2026, 5, 15, 12, 0)


def test_a_deadline_on_a_working_day_does_not_roll():
    due = local(PARIS, 2026, 6, 5, 18, 0)  # Friday evening
    assert roll_to_noon_next_working_day(due, PARIS, HolidayCalendar("FR")) == due


# ----- the shipped steps, table-driven ---------------------------------------------------------------

ANCHOR = local(PARIS, 2026, 3, 28, 12, 0)


@pytest.mark.django_db
def test_every_shipped_step_with_a_duration_computes_a_due_time():
    steps = list(RegimeStep.unscoped.filter(tenant=None).select_related("regime"))
    with CSV.open(newline="", encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    assert sorted(step.code for step in steps) == sorted(row["id"] for row in rows), "one step per csv row"
    for step in steps:
        due = due_at(step, ANCHOR, FRANCE)
        assert due is not None, step.code
        assert due >= ANCHOR, step.code
        if step.unit == "calendar_hours":
            assert (due - ANCHOR).total_seconds() == step.duration * 3600 or step.weekend_roll, step.code


EXPECTED_FROM_ANCHOR = {
    # step: hours after the anchor (absolute), per domain.md's summary table
    "GDPR-2": 72,
    "UK-1": 72,
    "NIS2-1": 24,
    "NIS2-2": 72,
    "NIS2-3": 24,
    "DORA-3": 72,
    "IN-1": 6,
    "PCI-4": 24,
    "EIDAS-1": 24,
}


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "hours"), sorted(EXPECTED_FROM_ANCHOR.items()))
def test_hour_steps_match_domain_md(code, hours):
    anchor = local(PARIS, 2026, 3, 10, 9, 0)  # a Tuesday: no weekend roll in play
    assert (due_at(shipped(code), anchor, FRANCE) - anchor).total_seconds() == hours * 3600


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("NIS2-5", (2026, 4, 10, 9, 0)),  # one month from the incident notification's submission
        ("HIPAA-1", (2026, 5, 9, 9, 0)),  # 60 calendar days
        ("SG-3", (2026, 3, 13, 9, 0)),  # 3 calendar days
        ("AU-1", (2026, 4, 9, 9, 0)),  # 30 days
    ],
)
def test_day_and_month_steps_match_domain_md(code, expected):
    assert due_at(shipped(code), local(PARIS, 2026, 3, 10, 9, 0), FRANCE) == local(PARIS, *expected)


# ----- applies_when ----------------------------------------------------------------------------------


@dataclass
class FakeIncident:
    affected_data_subjects: int | None = None
    aware_at: datetime | None = None
    classified_major_at: datetime | None = None


@pytest.mark.parametrize(
    ("condition", "facts", "incident", "expected"),
    [
        ("", {}, FakeIncident(), True),
        ("tenant:trust_service_provider", {"trust_service_provider": True}, FakeIncident(), True),
        ("tenant:trust_service_provider", {}, FakeIncident(), False),
        ("not tenant:trust_service_provider", {}, FakeIncident(), True),
        ("incident:affected_individuals>=500", {}, FakeIncident(499), False),
        ("incident:affected_individuals>=500", {}, FakeIncident(500), True),
        ("incident:affected_individuals>=500", {}, FakeIncident(None), None),
        ("incident:more_than_500_residents_of_a_state", {}, FakeIncident(400), False),
        ("incident:more_than_500_residents_of_a_state", {}, FakeIncident(4000), None),
        ("incident:high_risk_to_data_subjects", {}, FakeIncident(), None),
        (
            "classified_major_at within 24 h of aware_at",
            {},
            FakeIncident(
                aware_at=local(PARIS, 2026, 1, 1, 0, 0), classified_major_at=local(PARIS, 2026, 1, 2, 1, 0)
            ),
            False,
        ),
        (
            "classified_major_at within 24 h of aware_at",
            {},
            FakeIncident(
                aware_at=local(PARIS, 2026, 1, 1, 0, 0), classified_major_at=local(PARIS, 2026, 1, 1, 5, 0)
            ),
            True,
        ),
    ],
)
def test_applies_when(condition, facts, incident, expected):
    assert applies(condition, facts=facts, incident=incident) is expected
