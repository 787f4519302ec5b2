"""Reminders before each obligation's deadline and the escalation when it passes (design rule 7).

Reminder points: a share of the window between `clock_started_at` and `due_at` ("50%") or a time before
`due_at` ("1h", "30m", "2d"); the defaults are 50%, 75%, 90% and 1 h before, a tenant sets its own in
`Tenant.settings["reminder_points"]`. Every obligation also has the point `overdue`, at `due_at`.

- `obligation_next_reminder_at` is the earliest point not yet processed; the obligation services store it
  on the row whenever `due_at` changes, so the scanner's query is one range scan over a partial index of
  pending obligations with a point ahead: its cost follows the number due, not the number of incidents.
- `obligation_reminders_due` (the scanner) claims a batch with `FOR NO KEY UPDATE SKIP LOCKED` and pushes
  each claimed row's next_reminder_at one lease ahead, so a second scan (beat firing twice) does not fan
  the same rows out again, and a lost task is retried when the lease ends.
- `obligation_remind` (one task per obligation) locks the obligation, tells the incident owner and the
  tenant's managers (overdue: the executives too, critical), records `ReminderSent` and moves
  next_reminder_at on, all in one transaction. Exactly once per (obligation, point, recipient): the row
  lock serialises retries, `ReminderSent` is unique per (obligation, point), and notify()'s dedupe key
  `obligation:<id>:<point>` is unique per recipient in the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.events import publish
from apps.notifications.choices import NotificationKind, ObligationStatus
from apps.notifications.messaging import emits, notify
from apps.notifications.models import Obligation, ReminderSent
from apps.notifications.recipients import notice_people
from apps.notifications.wording import (
    incident_facts,
    obligation_link,
    obligation_name,
    obligation_owner,
    tenant_time,
)
from apps.tenancy.context import SYSTEM_DATABASE
from apps.tenancy.models import Tenant
from apps.tenancy.roles import RoleId

DEFAULT_POINTS = ("50%", "75%", "90%", "1h")
OVERDUE = "overdue"
SETTINGS_KEY = "reminder_points"
# How long a scanned obligation stays claimed before a scan may pick it up again (its task lost).
SCAN_LEASE = timedelta(minutes=5)

_SHARE = re.compile(r"^(?P<n>\d{1,2})%$")
_BEFORE = re.compile(r"^(?P<n>\d{1,4})(?P<unit>[mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class Point:
    code: str
    at: datetime


def parse_points(raw: Iterable[str] | None) -> tuple[str, ...]:
    """Validate a list of point codes ("50%", "1h", "30m", "2d"); `overdue` is implicit."""
    codes = []
    for code in raw if raw is not None else DEFAULT_POINTS:
        code = str(code).strip()
        share = _SHARE.match(code)
        if not (_BEFORE.match(code) or (share and 0 < int(share["n"]) < 100)):
            raise ValidationError(
                {
                    SETTINGS_KEY: [
                        f"{code!r}: use a share of the window (1%-99%) or a time before (30m, 1h, 2d)."
                    ]
                }
            )
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def tenant_points(settings: dict | None) -> tuple[str, ...]:
    """The tenant's configured points; a broken setting falls back to the defaults (never to silence)."""
    try:
        return parse_points((settings or {}).get(SETTINGS_KEY))
    except (ValidationError, TypeError):
        return DEFAULT_POINTS


def schedule(
    *, clock_started_at: datetime | None, due_at: datetime | None, points: Sequence[str]
) -> list[Point]:
    """The reminder points of one deadline, in time order, ending with `overdue` at due_at. Shares need a
    clock start; points that fall at or before the clock start are left out."""
    if due_at is None:
        return []
    result = []
    for code in points:
        if share := _SHARE.match(code):
            if clock_started_at is None or clock_started_at >= due_at:
                continue
            at = clock_started_at + (due_at - clock_started_at) * int(share["n"]) / 100
        else:
            before = _BEFORE.match(code)
            at = due_at - timedelta(**{_UNITS[before["unit"]]: int(before["n"])})
        if clock_started_at is not None and at <= clock_started_at:
            continue
        result.append(Point(code, at))
    result.append(Point(OVERDUE, due_at))
    # Stable on ties (a 4-hour window puts 75% and 1h at the same instant): the configured order wins.
    return sorted(result, key=lambda point: point.at)


def next_point(points: list[Point], done: set[str]) -> Point | None:
    return next((point for point in points if point.code not in done), None)


def obligation_next_reminder_at(obligation: Obligation, *, settings: dict | None = None) -> datetime | None:
    """Where the obligation's next reminder falls, given the points already processed. Called by the
    obligation services whenever due_at or clock_started_at changes (a corrected aware_at …)."""
    if obligation.status != ObligationStatus.PENDING or obligation.due_at is None:
        return None
    if settings is None:
        settings = Tenant.objects.filter(pk=obligation.tenant_id).values_list("settings", flat=True).first()
    done = set()
    if not obligation._state.adding:
        done = set(ReminderSent.unscoped.filter(obligation_id=obligation.pk).values_list("point", flat=True))
    points = schedule(
        clock_started_at=obligation.clock_started_at, due_at=obligation.due_at, points=tenant_points(settings)
    )
    point = next_point(points, done)
    return point.at if point else None


# --------------------------------------------------------------------------------------------------
# The scanner
# --------------------------------------------------------------------------------------------------


def obligation_reminders_due_queryset(*, now: datetime):
    """THE scanner query: pending obligations whose next point has come, oldest first. Served by the
    partial index notif_obligation_reminder_due (tests/notifications/test_reminders.py shows the plan)."""
    return (
        Obligation.unscoped.filter(status=ObligationStatus.PENDING, next_reminder_at__lte=now)
        .order_by("next_reminder_at")
        .values_list("pk", "tenant_id")
    )


@transaction.atomic(using=SYSTEM_DATABASE)
def obligation_reminders_claim(*, batch_size: int, now: datetime | None = None) -> list[tuple]:
    """Claim up to `batch_size` due obligations (rows another scan holds are skipped) and push each one's
    next_reminder_at a lease ahead; returns (obligation id, tenant id) pairs for the fan-out. The task
    recomputes next_reminder_at from the schedule, so the lease only matters when a task is lost."""
    now = now or timezone.now()
    claimed = list(
        obligation_reminders_due_queryset(now=now)
        .using(SYSTEM_DATABASE)
        .select_for_update(skip_locked=True, no_key=True)[:batch_size]
    )
    if claimed:
        Obligation.unscoped.using(SYSTEM_DATABASE).filter(pk__in=[pk for pk, _ in claimed]).update(
            next_reminder_at=now + SCAN_LEASE
        )
    return claimed


# --------------------------------------------------------------------------------------------------
# One obligation's reminder
# --------------------------------------------------------------------------------------------------


def _recipients(obligation: Obligation, *, overdue: bool) -> list:
    """The incident owner and the tenant's managers (overdue: its executives too) who see the obligation
    (an annual obligation: the managers and executives)."""
    roles = {RoleId.MANAGER, RoleId.EXECUTIVE} if overdue else {RoleId.MANAGER}
    return notice_people(obligation, roles)


def _message(obligation: Obligation, point: str) -> dict:
    """What a reminder at `point` says: kind, subject, body, what is asked, facts and link (notify())."""
    due = tenant_time(obligation.due_at, obligation.tenant)
    what, where = obligation_name(obligation), obligation_owner(obligation)
    recipient = obligation.recipient or "the recipient"
    facts = [
        *(incident_facts(obligation.incident) if obligation.incident else []),
        ("Notice", what),
        ("Recipient", recipient),
        ("Due", due),
    ]
    common = {"facts": facts, "link": obligation_link(obligation)}
    if point == OVERDUE:
        return {
            "kind": "obligation.overdue",
            "subject": f"Overdue: {what} for {where}",
            "body": f"The deadline passed at {due}. Recipient: {recipient}.",
            "ask": "Submit the notice now, or waive it with a rationale.",
            **common,
        }
    return {
        "kind": "obligation.due_soon",
        "subject": f"Due {due}: {what} for {where}",
        "body": f"Reminder ({point}): the notice to {recipient} is due at {due}.",
        "ask": f"Submit the notice to {recipient} before {due}.",
        **common,
    }


@dataclass(frozen=True)
class RemindResult:
    point: str | None
    told: int
    skipped: tuple[str, ...] = ()


@emits(NotificationKind.OBLIGATION_DUE_SOON, NotificationKind.OBLIGATION_OVERDUE)
@transaction.atomic
def obligation_remind(*, obligation_id, now: datetime | None = None) -> RemindResult:
    """Process the due reminder points of one obligation: tell the latest due point (earlier ones still
    unprocessed are recorded as skipped), publish obligation.due_soon / obligation.overdue, and move
    next_reminder_at on. Idempotent: a second run finds the points recorded and tells nobody."""
    now = now or timezone.now()
    # NO KEY: rows referencing the obligation (its ReminderSent) only take KEY SHARE locks.
    obligation = (
        Obligation.unscoped.select_for_update(no_key=True, of=("self",))
        .select_related("tenant", "incident__owner", "step")
        .filter(pk=obligation_id)
        .first()
    )
    if obligation is None:
        return RemindResult(point=None, told=0)
    tenant = obligation.tenant
    done = set(ReminderSent.unscoped.filter(obligation=obligation).values_list("point", flat=True))
    points = schedule(
        clock_started_at=obligation.clock_started_at,
        due_at=obligation.due_at,
        points=tenant_points(tenant.settings),
    )
    if obligation.status != ObligationStatus.PENDING:
        Obligation.unscoped.filter(pk=obligation.pk).update(next_reminder_at=None)
        return RemindResult(point=None, told=0)
    due = [point for point in points if point.code not in done and point.at <= now]
    told = 0
    if due:
        current, stale = due[-1], due[:-1]
        overdue = current.code == OVERDUE
        message = _message(obligation, current.code)
        recipients = _recipients(obligation, overdue=overdue)
        told = len(
            notify(
                tenant_id=obligation.tenant_id,
                users=recipients,
                incident_id=obligation.incident_id,
                critical=overdue,
                dedupe_key=f"obligation:{obligation.pk}:{current.code}",
                **message,
            )
        )
        publish(
            verb=message["kind"],
            actor=None,
            target=obligation,
            tenant_id=obligation.tenant_id,
            incident_id=obligation.incident_id,
            data={
                "point": current.code,
                "due_at": obligation.due_at.isoformat(),
                "notice": obligation.notice,
                "regime": obligation.regime,
                "recipients": [str(user.pk) for user in recipients],
            },
        )
        ReminderSent.unscoped.bulk_create(
            [
                ReminderSent(
                    tenant_id=obligation.tenant_id,
                    obligation=obligation,
                    point=point.code,
                    sent_at=now,
                    skipped=point is not current,
                )
                for point in [*stale, current]
            ]
        )
        done |= {point.code for point in due}
    upcoming = next_point(points, done)
    Obligation.unscoped.filter(pk=obligation.pk).update(next_reminder_at=upcoming.at if upcoming else None)
    return RemindResult(
        point=due[-1].code if due else None, told=told, skipped=tuple(p.code for p in due[:-1])
    )
