"""Who wants what, where: a person's channels per notification kind (issue 5, Delivery channels).

No row means every channel on. `notify()` asks `wants()` before writing; critical notifications (a deadline
overdue) never ask, so they cannot be silenced.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.events import diff, publish, snapshot
from apps.notifications.choices import NotificationKind
from apps.notifications.models import NotificationPreference

CHANNELS = ("in_app", "email")
DEFAULTS = {"in_app": True, "email": True}
# The kinds a person may tune, with their labels (unknown kinds are refused by the API).
KNOWN_KINDS: dict[str, str] = dict(NotificationKind.choices)
# Kinds that are always sent as critical: shown in the preferences as not silenceable.
ALWAYS_CRITICAL = frozenset({NotificationKind.OBLIGATION_OVERDUE.value})
PREFERENCE_FIELDS = ["in_app", "email"]


@dataclass(frozen=True)
class Preference:
    kind: str
    label: str
    in_app: bool
    email: bool
    critical: bool


def wants(*, user, kind: str, channel: str) -> bool:
    """Whether `user` wants notifications of `kind` on `channel` ("in_app" or "email"). One query."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if user is None or user.pk is None:
        return DEFAULTS[channel]
    value = (
        NotificationPreference.objects.filter(user_id=user.pk, kind=kind)
        .values_list(channel, flat=True)
        .first()
    )
    return DEFAULTS[channel] if value is None else value


def preference_list(*, user) -> list[Preference]:
    """Every known kind with the person's effective channels, in one query."""
    rows = {row.kind: row for row in NotificationPreference.objects.filter(user_id=user.pk)}
    return [
        Preference(
            kind=kind,
            label=label,
            in_app=rows[kind].in_app if kind in rows else DEFAULTS["in_app"],
            email=rows[kind].email if kind in rows else DEFAULTS["email"],
            critical=kind in ALWAYS_CRITICAL,
        )
        for kind, label in KNOWN_KINDS.items()
    ]


def preference_get(*, user, kind: str) -> Preference:
    _require_known(kind)
    return next(p for p in preference_list(user=user) if p.kind == kind)


def _require_known(kind: str) -> None:
    if kind not in KNOWN_KINDS:
        raise ValidationError(
            {"kind": [f"Unknown notification type {kind!r}; known: {', '.join(KNOWN_KINDS)}."]}
        )


@transaction.atomic
def preference_set(
    *, actor, user, kind: str, in_app: bool | None = None, email: bool | None = None
) -> Preference:
    """Set a person's channels for one kind (only the given ones change). A person sets their own."""
    _require_known(kind)
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(
        user_id=user.pk, kind=kind
    )
    before = snapshot(preference, PREFERENCE_FIELDS)
    if in_app is not None:
        preference.in_app = in_app
    if email is not None:
        preference.email = email
    preference.save()
    changes = diff(preference, before, PREFERENCE_FIELDS)
    if changes:
        publish(
            verb="notification_preference.updated",
            actor=actor,
            target=preference,
            changes=changes,
            data={"kind": kind},
        )
    return preference_get(user=user, kind=kind)
