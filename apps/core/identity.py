"""A confidential reporter's identity: the one rule of when it must not be recorded or shown, and its
redacted form (issue 14, "Confidential reporters").

A person filing a confidential report, and acting later on it (attaching, downloading its attachments),
is its *confidential reporter*. Their identity (id, username, names, e-mail, the address and browser a
request came from) is stored only on the report (`reporter`) and on its attachments (`collected_by`,
`uploaded_by`: the same person), read through the reporting and evidence selectors, which show it to the
tenant's managers (report:reporter_identity) and to the reporter itself; the address and browser are
stored nowhere.

Everything *recorded* about such an act carries the pseudonym instead, for every reader, managers
included, because records travel (audit extracts, evidence packages, webhook bodies, exports):

- domain events (and so the audit trail, timeline entries, notifications and webhook bodies): `publish`
  calls `redact_event` when the actor is the confidential reporter;
- custody entries: `holder_name` and `recorded_actor`;
- what was recorded before this rule: `redact_recorded` at read (audit rows cannot be rewritten: they
  are hash-chained; timeline entries are append-only: `redact_people` where `recorded_as_confidential`),
  the redaction the rows recorded since already carry.

Apps below reporting (response, audit) decide with the duck-typed `report` (anything with
`confidential` and `reporter_id`), so every writer can import this module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from apps.core.origin import Origin

PSEUDONYM = "confidential"
# Keys of recorded changes/data that held a person's id in rows recorded before the redaction at source.
PERSON_KEYS = frozenset({"collected_by_id", "uploaded_by_id", "reporter_id", "reporter", "actor_id"})


class ConfidentialReport(Protocol):
    confidential: bool
    reporter_id: Any


def _id_of(person) -> str | None:
    if person is None:
        return None
    value = getattr(person, "pk", person)
    return None if value is None else str(value)


def is_confidential_reporter(person, *, report: ConfidentialReport | None) -> bool:
    """Whether `person` (a user, a user id or None), acting on or around `report`, is its confidential
    reporter, whose identity must not be recorded or shown."""
    if report is None or not report.confidential:
        return False
    person_id = _id_of(person)
    return person_id is not None and person_id == _id_of(report.reporter_id)


def shown_actor(actor_id, actor_repr: str, *, report: ConfidentialReport | None) -> tuple[str | None, str]:
    """Who a record (a custody entry) shows as having acted, as (id, name): the pseudonym for the
    confidential reporter (older entries kept the person as actor), the recorded person otherwise."""
    if is_confidential_reporter(actor_id, report=report):
        return None, PSEUDONYM
    return (None if actor_id is None else str(actor_id)), actor_repr


def holder_name(person, *, report: ConfidentialReport | None) -> str:
    """How a custody log (or any record) names a person: the pseudonym for the confidential reporter."""
    if person is None:
        return "system"
    if is_confidential_reporter(person, report=report):
        return PSEUDONYM
    return person.get_username()


def recorded_actor(person, *, report: ConfidentialReport | None):
    """The person to store as a record's actor (a foreign key): nobody for the confidential reporter."""
    if person is None or not getattr(person, "is_authenticated", False):
        return None
    return None if is_confidential_reporter(person, report=report) else person


def identifiers(person) -> tuple[re.Pattern | None, set[str]]:
    """(the person's id, username and e-mail, as a pattern matching them as whole words wherever they
    occur; the names, replaced where they are a whole value). Whole words only: a short username such as
    "cafe" must not rewrite the hex of a hash or an id it happens to occur in."""
    distinctive = {
        value
        for value in (
            _id_of(person),
            getattr(getattr(person, "pk", None), "hex", None),
            person.get_username() if hasattr(person, "get_username") else None,
            getattr(person, "email", None),
        )
        if value
    }
    names = {
        getattr(person, "first_name", ""),
        getattr(person, "last_name", ""),
        person.get_full_name() if hasattr(person, "get_full_name") else "",
    }
    alternatives = "|".join(re.escape(value) for value in sorted(distinctive, key=len, reverse=True))
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)") if alternatives else None
    return pattern, {name for name in names if name}


def scrub(value, person):
    """`value` (JSON-like) with every trace of `person` replaced by the pseudonym."""
    pattern, names = identifiers(person)
    return _scrub(value, pattern, names)


def _scrub(value, pattern: re.Pattern | None, names: set[str]):
    if isinstance(value, Mapping):
        return {key: _scrub(item, pattern, names) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item, pattern, names) for item in value]
    if isinstance(value, str):
        if value in names:
            return PSEUDONYM
        return pattern.sub(PSEUDONYM, value) if pattern is not None else value
    if value is not None and not isinstance(value, bool | int | float):
        return _scrub(str(value), pattern, names)
    return value


def redact_event(
    *, actor, target_repr: str, changes: Mapping, data: Mapping, origin: Origin
) -> tuple[str, dict, dict, Origin]:
    """An event the confidential reporter caused, as it may be recorded: no id or name in what it
    changed or tells, and the request's address and browser dropped (they identify a person as well as a
    name does). The event's actor itself is recorded as nobody (apps.core.events.publish)."""
    if actor is None:
        return target_repr, dict(changes), dict(data), Origin(channel=origin.channel)
    pattern, names = identifiers(actor)  # once for the three
    return (
        _scrub(target_repr, pattern, names),
        _scrub(dict(changes), pattern, names),
        _scrub(dict(data), pattern, names),
        Origin(channel=origin.channel),
    )


def redact_people(values):
    """Recorded changes/data (at any depth) without the person ids older rows kept under PERSON_KEYS."""
    if isinstance(values, Mapping):
        return {
            key: _pseudonymised(item) if key in PERSON_KEYS else redact_people(item)
            for key, item in values.items()
        }
    if isinstance(values, list):
        return [redact_people(item) for item in values]
    return values


def _pseudonymised(value):
    if isinstance(value, list):
        return [PSEUDONYM if item else item for item in value]
    return PSEUDONYM if value else value


def recorded_as_confidential(*, actor_id, actor_repr: str) -> bool:
    """Whether a record copied from an event (a timeline entry) was the confidential reporter's act: it
    names nobody but the pseudonym."""
    return actor_id is None and actor_repr == PSEUDONYM


def redact_recorded(row: Mapping) -> dict:
    """A recorded audit row (its fields as a dict: actor_id, actor_repr, changes, data, ip, user_agent,
    confidential) as it may be shown: a row marked confidential names nobody. Rows recorded since the
    redaction at source are unchanged by it; older ones lose the ids, address and browser they carried."""
    if not row.get("confidential"):
        return dict(row)
    return {
        **row,
        "actor_id": None,
        "actor_repr": PSEUDONYM,
        "changes": redact_people(row.get("changes") or {}),
        "data": redact_people(row.get("data") or {}),
        "ip": None,
        "user_agent": "",
    }


def recorded_row_withheld(row: Mapping) -> bool:
    """Whether showing the recorded row needs the redaction (an old row that names a confidential
    reporter): its hash then no longer matches what is shown, so extracts give it as a link only."""
    if not row.get("confidential"):
        return False
    shown = redact_recorded(row)
    return any(shown.get(key) != row.get(key) for key in ("actor_id", "changes", "data", "ip", "user_agent"))
