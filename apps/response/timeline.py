"""The incident timeline: automatic entries from domain events, manual ones from people."""

from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import RegimeStep
from apps.core.events import DomainEvent, publish
from apps.core.times import BEFORE_INCIDENT_MARGIN, require_past_times
from apps.response.choices import ActionStatus, IncidentStatus, Severity, TimelineKind
from apps.response.lifecycle import require_open
from apps.response.models import Incident, TimelineEntry
from apps.tenancy.access import Access
from apps.tenancy.roles import Scope

# Reads are on the audit trail; they are not events in the incident's story. `incident.flags_changed` is
# the part of an `incident.updated` that moves the clocks (for the obligations): the update says it already.
NOT_ON_TIMELINE = {"incident.accessed_via_grant", "timeline.entry_added", "incident.flags_changed"}
# Records whose str() is their name (named, not imported: evidence and reviews sit above this app).
NAMED_BY_STR = {"response.responseaction", "reviews.correctiveaction", "evidence.evidence"}

# What each kind of event is about, by its verb's first part.
SUBJECTS = {
    "incident": _("Incident"),
    "action": _("Action"),
    "evidence": _("Evidence"),
    "obligation": _("Notification obligation"),
    "review": _("Review"),
    "corrective_action": _("Corrective action"),
    "assessment": _("Assessment"),
}
# Verbs that read better otherwise than "<subject> <what happened>".
PHRASES = {
    "incident.transitioned": _("Status"),
    "incident.granted": _("Access granted"),
    "incident.grant_revoked": _("Access revoked"),
    "evidence.integrity_failed": _("Evidence failed its integrity check"),
    "evidence.linked": _("Evidence joined from its report"),
    "obligation.created": _("Notification obligation opened"),
    "obligation.collected": _("Notification obligation: counted in the annual notice"),
    "review.created": _("Review started"),
    "assessment.recorded": _("Report assessed"),
}
# Status and severity names of this app's records; other apps' codes read as their labels humanized.
CHOICES = {
    "status": dict(IncidentStatus.choices) | dict(ActionStatus.choices),
    "severity": dict(Severity.choices),
}
PEOPLE_FIELDS = ("assignee_id", "owner_id")
FIELD_NAMES = {"assignee_id": _("assignee"), "owner_id": _("owner"), "due_at": _("due date")}
# Changes shown with their values (short codes and people); the others by their name only.
VALUED_FIELDS = {"status", "severity", "impact", "urgency", "decision", *PEOPLE_FIELDS}
# What a record's creation shows of its fields.
CREATION = {"created", "added", "declared", "recorded"}
SHOWN_AT_CREATION = {"decision", *PEOPLE_FIELDS}


def _humanize(code) -> str:
    text = str(code).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _value(field: str, value, people: Mapping) -> str:
    if value in (None, ""):
        return "—"
    if field in PEOPLE_FIELDS:
        return people.get(str(value), "?")
    return str(CHOICES.get(field, {}).get(value) or _humanize(value))


def _object_name(data: Mapping) -> str:
    """What the entry is about: the name kept when it was recorded, else (entries recorded before names
    were kept) the file name, title, report reference or obligation step in its data."""
    title = (data.get("changes") or {}).get("title") or [None]
    for name in (data.get("object"), data.get("name"), title[-1], data.get("report_reference")):
        if name:
            return str(name)
    return str(data.get("step") or data.get("notice") or "")


# Changes that the entry's place says already: on an incident's own timeline, which incident.
IMPLIED_FIELDS = {"incident_id"}


def _details(what: str, data: Mapping) -> str:
    changes, people = data.get("changes") or {}, data.get("people") or {}
    parts = []
    for field in sorted(set(changes) - IMPLIED_FIELDS):
        name = str(FIELD_NAMES.get(field) or _humanize(field).lower())
        pair = changes[field]
        valued = field in VALUED_FIELDS and isinstance(pair, list) and len(pair) == 2
        if valued and field in PEOPLE_FIELDS and not any(str(v) in people for v in pair):
            valued = False  # recorded before people's names were kept
        if what in CREATION:
            if valued and field in SHOWN_AT_CREATION and pair[1]:
                parts.append(f"{name}: {_value(field, pair[1], people)}")
        elif valued:
            parts.append(f"{name}: {_value(field, pair[0], people)} → {_value(field, pair[1], people)}")
        else:
            parts.append(name)
    return ", ".join(parts)


def entry_label(*, verb: str, data: Mapping) -> str:
    """An automatic entry in words, from its verb and stored data: what happened, to which object (the
    action's title, the evidence's file name, the obligation's step) and status names instead of codes."""
    subject, _dot, what = verb.partition(".")
    changes = data.get("changes") or {}
    if verb == "incident.transitioned" and "status" in changes:
        source, target = (_value("status", code, {}) for code in changes["status"])
        note = data.get("note")
        return f"{PHRASES[verb]}: {source} → {target}" + (f": {note}" if note else "")
    phrase = PHRASES.get(verb) or f"{SUBJECTS.get(subject, _humanize(subject))} {_humanize(what).lower()}"
    name = "" if subject in ("incident", "review") else _object_name(data)
    text = f"{phrase}: {name}" if name else str(phrase)
    details = _details(what, data)
    return f"{text} ({details})" if details else text


def _people_names(changes: Mapping) -> dict[str, str]:
    """{user id: username} of the people a change names (assignee, owner)."""
    ids = {str(v) for field in PEOPLE_FIELDS for v in changes.get(field) or () if v}
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=ids).values_list("pk", "username")
    return {str(pk): username for pk, username in users}


def _step_name(code: str, tenant_id) -> str:
    steps = RegimeStep.unscoped.filter(Q(tenant_id=tenant_id) | Q(tenant__isnull=True), code=code)
    name = steps.values_list("name", flat=True).first()
    return f"{code} ({name})" if name else code


def _kept_names(event: DomainEvent) -> dict:
    """Names stored with an automatic entry, so that it reads the same after its object is renamed (the
    timeline is append-only): the object's (an obligation's step, a file, a title) and the people's."""
    kept = {}
    step = event.data.get("step") or event.data.get("notice")
    named = event.target_repr if event.target_type in NAMED_BY_STR else ""
    if name := (
        _step_name(step, event.tenant_id)
        if step
        else event.data.get("name") or event.data.get("report_reference") or named
    ):
        kept["object"] = name
    if people := _people_names(event.changes):
        kept["people"] = people
    return kept


def record_automatic_entry(event: DomainEvent) -> None:
    """Subscribed to every event: whatever concerns an incident lands on its timeline, in the same
    transaction as the change itself."""
    if event.incident_id is None or event.verb in NOT_ON_TIMELINE:
        return
    data = {"changes": dict(event.changes), **dict(event.data), **_kept_names(event)}
    TimelineEntry.unscoped.create(
        tenant_id=event.tenant_id,
        incident_id=event.incident_id,
        at=timezone.now(),
        kind=TimelineKind.AUTOMATIC,
        verb=event.verb,
        actor_id=event.actor_id,
        actor_repr=event.actor_repr,
        summary=entry_label(verb=event.verb, data=data),
        data=data,
    )


def timeline_label(entry: TimelineEntry) -> str:
    """How an entry reads on the page and in the API (`label`): automatic ones from their stored data,
    people's own as written."""
    if entry.kind != TimelineKind.AUTOMATIC:
        return entry.summary
    return entry_label(verb=entry.verb, data=entry.data or {})


def incident_began_at(incident: Incident):
    """The earliest time the incident is known by: its declaration, or the awareness or discovery stated
    for it when earlier (a manual timeline entry may reach a year further back: apps/core/times.py)."""
    return min(t for t in (incident.declared_at, incident.aware_at, incident.discovered_at) if t is not None)


@transaction.atomic
def timeline_entry_add(
    *,
    actor,
    access: Access,
    incident: Incident,
    kind: str,
    summary: str,
    at=None,
    direction: str = "",
    counterpart: str = "",
    channel: str = "",
) -> TimelineEntry:
    """An observation or a communication (internal or external: to whom, by which channel, what)."""
    if not access.has_scope(incident.tenant_id, Scope.INCIDENT_WRITE):
        raise PermissionDenied("You may not add to this incident's timeline.")
    require_open(incident.pk, what="its timeline takes no more manual entries")
    if kind not in {TimelineKind.OBSERVATION, TimelineKind.COMMUNICATION}:
        raise ValidationError({"kind": ["One of: observation, communication."]})
    if kind == TimelineKind.COMMUNICATION and not (direction and counterpart):
        raise ValidationError({"counterpart": ["A communication names its direction and counterpart."]})
    if at is not None:
        require_past_times(
            {"at": at},
            not_before=incident_began_at(incident) - BEFORE_INCIDENT_MARGIN,
            why="a year before the incident began",
        )
    entry = TimelineEntry.unscoped.create(
        tenant_id=incident.tenant_id,
        incident=incident,
        at=at or timezone.now(),
        kind=kind,
        verb=f"timeline.{kind}",
        actor=actor,
        actor_repr=actor.get_username(),
        summary=summary,
        direction=direction,
        counterpart=counterpart,
        channel=channel,
    )
    publish(
        verb="timeline.entry_added",
        actor=actor,
        target=entry,
        tenant_id=incident.tenant_id,
        incident_id=incident.pk,
        data={"kind": kind, "summary": summary[:500], "direction": direction, "counterpart": counterpart},
    )
    return entry
