"""The in-process domain-event bus.

Services publish explicit events; subscribers (audit, and higher apps such as notifications) register in
their AppConfig.ready() and run inside the publishing transaction, so what they write commits or rolls
back with the change. Anything that leaves the process must be deferred with transaction.on_commit.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction

from apps.core.identity import PSEUDONYM, redact_event
from apps.core.origin import Origin, current_origin


@dataclass(frozen=True)
class DomainEvent:
    verb: str
    actor_id: Any | None
    actor_repr: str
    tenant_id: Any | None
    target_type: str
    target_id: str
    target_repr: str
    incident_id: Any | None = None
    changes: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    confidential: bool = False
    origin: Origin = field(default_factory=current_origin)


Subscriber = Callable[[DomainEvent], None]
_subscribers: list[tuple[str, Subscriber]] = []


class EventOutsideTransaction(RuntimeError):
    pass


def subscribe(pattern: str = "*") -> Callable[[Subscriber], Subscriber]:
    """Register a handler for verbs matching a shell-style pattern, e.g. "membership.*"."""

    def register(handler: Subscriber) -> Subscriber:
        if (pattern, handler) not in _subscribers:
            _subscribers.append((pattern, handler))
        return handler

    return register


def publish(
    *,
    verb: str,
    actor,
    target: models.Model,
    tenant_id=None,
    incident_id=None,
    changes: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    confidential: bool = False,
) -> DomainEvent:
    """Publish to every subscriber, in the caller's transaction. `confidential`: the actor is the
    confidential reporter of the report this concerns (decided by apps.core.identity's
    is_confidential_reporter): the event then names nobody and carries no address or browser."""
    if not transaction.get_connection().in_atomic_block:
        raise EventOutsideTransaction(f"{verb} must be published inside the transaction that causes it")
    is_person = actor is not None and getattr(actor, "is_authenticated", False)
    target_repr, changes, data, origin = str(target), dict(changes or {}), dict(data or {}), current_origin()
    if confidential:  # the actor is a confidential reporter (apps.core.identity): recorded as nobody
        target_repr, changes, data, origin = redact_event(
            actor=actor if is_person else None,
            target_repr=target_repr,
            changes=changes,
            data=data,
            origin=origin,
        )
    event = DomainEvent(
        verb=verb,
        actor_id=actor.pk if is_person and not confidential else None,
        actor_repr=PSEUDONYM if confidential else (actor.get_username() if is_person else "system"),
        tenant_id=tenant_id,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=target_repr[:255],
        incident_id=incident_id,
        changes=changes,
        data=data,
        confidential=confidential,
        origin=origin,
    )
    for pattern, handler in list(_subscribers):
        if fnmatch.fnmatchcase(verb, pattern):
            handler(event)
    return event


def diff(instance: models.Model, before: Mapping[str, Any], fields: list[str]) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for the fields whose value changed, JSON-friendly."""
    changes = {}
    for name in fields:
        new = getattr(instance, name)
        old = before.get(name)
        if old != new:
            changes[name] = [_jsonable(old), _jsonable(new)]
    return changes


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)
