"""Personal iCalendar feeds: a secret link per person listing the deadlines they should see.

The secret is `<feed id><HMAC-SHA256(SECRET_KEY, id:nonce)>`: nothing stored in the database lets anyone
rebuild it, the owner can ask for it again, and rotating the nonce revokes the old link. The feed is read
with the person's own Access inside `activate()`, through the same selectors as the API: what the link
shows is exactly what its owner may see now (a membership removed, a grant revoked: gone from the feed).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from apps.notifications import ical, selectors
from apps.notifications.choices import ObligationStatus
from apps.notifications.emails import absolute_url
from apps.notifications.models import CalendarFeed, TrainingAssignment
from apps.notifications.wording import obligation_link, obligation_name
from apps.tenancy.access import access_for
from apps.tenancy.context import activate

_SALT = "vigil.notifications.calendar-feed"
FEED_LIMIT = 500  # events per kind: a calendar of deadlines, not an archive
EVENT_LENGTH = timedelta(minutes=30)
REMINDERS = ((timedelta(hours=24), "24 hours"), (timedelta(hours=1), "1 hour"))


def _digest(feed: CalendarFeed) -> str:
    return salted_hmac(_SALT, f"{feed.pk}:{feed.nonce}", algorithm="sha256").hexdigest()


def feed_token(feed: CalendarFeed) -> str:
    return f"{feed.pk.hex}{_digest(feed)}"


def feed_path(feed: CalendarFeed) -> str:
    return reverse("calendar-feed", kwargs={"token": feed_token(feed)})


@transaction.atomic
def calendar_feed_get(*, user) -> CalendarFeed:
    """The person's feed, made on first use."""
    feed, _ = CalendarFeed.objects.get_or_create(user=user, defaults={"nonce": secrets.token_hex(32)})
    return feed


@transaction.atomic
def calendar_feed_rotate(*, user) -> CalendarFeed:
    """A new secret: the old link answers 404 from now on."""
    feed = calendar_feed_get(user=user)
    feed = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
    feed.nonce = secrets.token_hex(32)
    feed.rotated_at = timezone.now()
    feed.save(update_fields=["nonce", "rotated_at"])
    return feed


def calendar_feed_resolve(token: str):
    """The active user a secret link belongs to, or None (malformed, rotated, unknown: all alike)."""
    if len(token) != 96:
        return None
    try:
        feed_id = uuid.UUID(hex=token[:32])
    except ValueError:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(pk=feed_id).first()
    if feed is None or not feed.user.is_active or not constant_time_compare(_digest(feed), token[32:]):
        return None
    return feed.user


def _tenant_time(moment: datetime, tenant) -> str:
    return f"{moment.astimezone(ZoneInfo(tenant.time_zone or 'UTC')):%Y-%m-%d %H:%M %Z}"


def _obligation_event(obligation, *, now: datetime) -> ical.Event:
    """Named by what is owed and for which incident (its reference and title: its summary, which every
    reader of the incident may see), with whom to send it to, the legal basis, the due time in the
    department's zone and the page; reminders 24 h and 1 h before it is due, those still ahead."""
    step, incident = obligation.step, obligation.incident
    what = obligation_name(obligation)
    whose = f"{incident.reference} {incident.title}" if incident else f"annual log {obligation.period_year}"
    url = absolute_url(obligation_link(obligation))  # an annual one: the dashboard
    lines = [
        f"{what}: step {step.code} of {step.regime.name}",
        f"Incident {whose}" if incident else whose.capitalize(),
        f"Send to: {obligation.recipient or step.recipient or 'not named'}",
        f"Legal basis: {step.citation}" if step.citation else "",
        f"Due: {_tenant_time(obligation.due_at, obligation.tenant)}",
        url,
    ]
    alarms = tuple(
        ical.Alarm(before=ahead, description=f"{what} due in {label}: {whose}")
        for ahead, label in REMINDERS
        if obligation.due_at - ahead > now
    )
    return ical.Event(
        uid=f"obligation-{obligation.pk}@vigil",
        start=obligation.due_at - EVENT_LENGTH,
        end=obligation.due_at,
        summary=f"{what} due: {whose}",
        description="\n".join(line for line in lines if line),
        url=url,
        categories=("Vigil", obligation.regime.upper()),
        last_modified=obligation.updated_at,
        alarms=alarms,
    )


def calendar_render(*, user, now=None) -> str:
    """The person's feed: pending obligations (with a due time) of the incidents they may see, and their
    own open training assignments."""
    now = now or timezone.now()
    access = access_for(user)
    with activate(access):
        obligations = (
            selectors.obligation_list(access=access)
            .filter(status=ObligationStatus.PENDING, due_at__isnull=False)
            .select_related("step__regime", "tenant")
            .order_by("due_at", "id")[:FEED_LIMIT]
        )
        events = [_obligation_event(obligation, now=now) for obligation in obligations]
        assignments = (
            TrainingAssignment.objects.filter(user=user, completed_at__isnull=True)
            .select_related("course")
            .order_by("due_at", "id")[:FEED_LIMIT]
        )
        for assignment in assignments:
            events.append(
                ical.Event(
                    uid=f"training-{assignment.pk}@vigil",
                    start=assignment.due_at - EVENT_LENGTH,
                    end=assignment.due_at,
                    summary=f"Training due: {assignment.course.name}",
                    description=assignment.course.description,
                    categories=("Vigil", "Training"),
                )
            )
    return ical.calendar(events, name="Vigil deadlines", stamp=now)
