"""Times people state about the past must be plausible (issue 14: manual timeline entries took year 1, 9999).

The rule, for every service that records when something happened, was noticed or was done: not in the future
beyond CLOCK_SKEW (clocks of browsers and integrations drift), and not before a floor — the Unix epoch at the
latest (nothing an information system recorded precedes it), or closer where the record has a natural start,
as an incident's timeline: a year (BEFORE_INCIDENT_MARGIN) before the earliest time the incident is known by.
A violation is a ValidationError naming the field (400 on the API, the form's field on the pages).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

CLOCK_SKEW = timedelta(minutes=5)
# An incident's clock anchors (awareness, discovery, ...) may be planned ahead a little: the regimes' year-end
# arithmetic is worked through with them. Year 9999 is not a plan.
ANCHOR_AHEAD = timedelta(days=366)
BEFORE_INCIDENT_MARGIN = timedelta(days=366)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)

FUTURE = "Cannot be in the future."


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def past_time_errors(
    times: Mapping[str, datetime | None],
    *,
    now: datetime | None = None,
    not_before: datetime | None = None,
    why: str = "",
    ahead: timedelta = CLOCK_SKEW,
) -> dict[str, list[str]]:
    """{field: [message]} for each given time outside [floor, now + ahead]; the floor is `not_before`
    (explained by `why`, e.g. "a year before the incident began") but never earlier than EARLIEST."""
    now = now or timezone.now()
    floor = max(not_before, EARLIEST) if not_before is not None else EARLIEST
    reason = why if not_before is not None and not_before > EARLIEST else ""
    errors: dict[str, list[str]] = {}
    for field, value in times.items():
        if value is None:
            continue
        if value > now + ahead:
            errors[field] = [
                FUTURE if ahead == CLOCK_SKEW else f"Cannot be more than {ahead.days} days ahead."
            ]
        elif value < floor:
            errors[field] = [f"Cannot be before {_stamp(floor)}" + (f", {reason}." if reason else ".")]
    return errors


def require_past_times(
    times: Mapping[str, datetime | None],
    *,
    now: datetime | None = None,
    not_before: datetime | None = None,
    why: str = "",
    ahead: timedelta = CLOCK_SKEW,
) -> None:
    """Raise a ValidationError naming every implausible time among `times` (see past_time_errors)."""
    if errors := past_time_errors(times, now=now, not_before=not_before, why=why, ahead=ahead):
        raise ValidationError(errors)
