"""Writes of obligations and authorities (design.md rules 4, 5 and 7).

Obligations follow their incident: `obligations_sync` runs on `incident.declared` and
`incident.flags_changed` (subscribers, inside the incident's transaction) and after every submission, and
- creates the missing obligations of the incident's enabled regimes (scope `incident`, `applies_when`
  holding or not known yet), one per notice, due at the earliest applicable limit of its steps;
- recomputes `clock_started_at`/`due_at` of pending ones when an anchor changed (an `aware_at` corrected,
  an earlier notice submitted), publishing `obligation.rescheduled` with the old and new due time;
- waives the pending obligations of a regime removed from the incident, with the removal's rationale;
- never touches submitted or waived obligations;
- collects the incident into the annual obligation of each applicable `annual` step (one per tenant, step
  and calendar year of the incident, due per the step from January 1 of the following year in the tenant's
  time zone; see Obligation), and releases it from a pending one that no longer applies.

Manual anchors (`anchor_source` manual, e.g. AU-2) are entered with `obligation_anchor`; a submission may
carry the copy of what was sent (apps.notifications.copies), written once.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.catalog.choices import StepScope
from apps.catalog.models import Regime, RegimeStep
from apps.core.errors import Conflict
from apps.core.events import diff, publish, snapshot
from apps.core.times import CLOCK_SKEW, past_time_errors, require_past_times
from apps.core.validation import validate
from apps.notifications import copies, deadlines, reminders
from apps.notifications.applicability import applies
from apps.notifications.choices import ObligationStatus
from apps.notifications.models import AnnualObligationIncident, Authority, Obligation
from apps.response.models import Incident
from apps.tenancy.access import Access
from apps.tenancy.models import Tenant
from apps.tenancy.roles import Scope

OBLIGATION_FIELDS = [
    "regime",
    "step_id",
    "notice",
    "recipient",
    "authority_id",
    "anchor_at",
    "clock_started_at",
    "due_at",
    "status",
    "submitted_at",
    "submitted_to",
    "reference",
    "summary",
    "waived_rationale",
    "period_year",
    "copy_name",
    "copy_sha256",
    "copy_size",
]
CLOCK_ANCHORS = frozenset({"aware_at", "classified_major_at", "materiality_determined_at", "discovered_at"})
_LATEST_ANCHOR = re.compile(r"anchor is the latest (?P<steps>.+?) submission", re.IGNORECASE)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


# --------------------------------------------------------------------------------------------------
# Anchors, deadlines and recipients of one step
# --------------------------------------------------------------------------------------------------


def _anchor_of(
    step: RegimeStep,
    *,
    incident: Incident,
    submissions: dict[str, datetime],
    notice_of: dict[str, str],
    manual: datetime | None,
) -> datetime | None:
    """When the step's clock starts: an incident anchor, the submission of an earlier notice (the latest of
    several when the adjustment says so, e.g. DORA-5 runs from the latest DORA-3 or DORA-4), or the manual
    anchor entered on the obligation."""
    kind, _, name = step.anchor_source.partition(":")
    if kind == "incident":
        return getattr(incident, name) if name in CLOCK_ANCHORS else manual
    if kind == "step":
        notices = {name}
        if match := _LATEST_ANCHOR.search(step.adjustment or ""):
            notices |= {notice_of.get(code.strip(), code.strip()) for code in match["steps"].split(" or ")}
        times = [submissions[notice] for notice in notices if notice in submissions]
        return max(times) if times else None
    return manual


def _authority_for(step: RegimeStep, regime: Regime, authorities: list[Authority]) -> Authority | None:
    """The tenant's authority for this notice: one that lists the regime, else the only one of the regime's
    jurisdiction that lists no regime at all. Notices to data subjects or clients name no authority."""
    if not step.notifies_authority:
        return None
    named = [a for a in authorities if regime.code in a.regimes]
    if named:
        return named[0]
    generic = [
        a
        for a in authorities
        if not a.regimes and regime.jurisdiction and a.jurisdiction == regime.jurisdiction
    ]
    return generic[0] if len(generic) == 1 else None


def _plan(candidates, *, incident, calendar, submissions, notice_of, manual):
    """(governing step, clock start, due) of a notice: the earliest limit among steps whose anchor exists,
    else the first step (listed without due_at until its anchor exists)."""
    timed = []
    for step in candidates:
        anchor = _anchor_of(
            step, incident=incident, submissions=submissions, notice_of=notice_of, manual=manual
        )
        timed.append((step, anchor, deadlines.due_at(step, anchor, calendar)))
    known = [entry for entry in timed if entry[2] is not None]
    return min(known, key=lambda entry: entry[2]) if known else timed[0]


# --------------------------------------------------------------------------------------------------
# Sync: the incident's obligations follow its regimes, flags and anchors
# --------------------------------------------------------------------------------------------------


def _enabled_regimes(incident: Incident) -> dict[str, Regime]:
    regimes = Regime.unscoped.filter(
        Q(tenant__isnull=True) | Q(tenant_id=incident.tenant_id), code__in=incident.regimes, enabled=True
    )
    return {regime.code: regime for regime in regimes}


@transaction.atomic
def obligations_sync(*, incident_id, rationale: str = "") -> list[Obligation]:
    """Create, reschedule and (for removed regimes) waive the incident's obligations. Acts as the system:
    the person who changed the incident is on the incident's own event."""
    incident = Incident.unscoped.select_for_update(of=("self",)).select_related("tenant").get(pk=incident_id)
    calendar = deadlines.TenantCalendar.of(incident.tenant)
    facts = calendar.facts
    regimes = _enabled_regimes(incident)
    steps = list(
        RegimeStep.unscoped.filter(regime__in=list(regimes.values()))
        .select_related("regime")
        .order_by("position", "code")
    )
    notice_of = {step.code: step.notice for step in steps}
    existing = {
        obligation.notice: obligation
        for obligation in Obligation.unscoped.select_for_update()
        .filter(incident=incident)
        .select_related("step")
    }
    submissions = {
        notice: obligation.submitted_at
        for notice, obligation in existing.items()
        if obligation.status == ObligationStatus.SUBMITTED
    }
    authorities = list(Authority.unscoped.filter(tenant_id=incident.tenant_id).order_by("name", "id"))

    groups: dict[str, list[RegimeStep]] = {}
    for step in steps:
        # Conservative on purpose: a condition Vigil cannot evaluate yet (None) counts as applying.
        if (
            step.scope == StepScope.INCIDENT
            and applies(step.applies_when, facts=facts, incident=incident) is not False
        ):
            groups.setdefault(step.notice, []).append(step)

    touched = _sync_annual(incident, steps=steps, calendar=calendar, authorities=authorities)
    for notice, candidates in groups.items():
        obligation = existing.get(notice)
        manual = obligation.anchor_at if obligation else None
        step, anchor, due = _plan(
            candidates,
            incident=incident,
            calendar=calendar,
            submissions=submissions,
            notice_of=notice_of,
            manual=manual,
        )
        if obligation is None:
            authority = _authority_for(step, step.regime, authorities)
            touched.append(
                _create(
                    actor=None,
                    tenant=incident.tenant,
                    incident=incident,
                    step=step,
                    authority=authority,
                    recipient=authority.name if authority else step.recipient,
                    anchor=anchor,
                    due=due,
                )
            )
        elif obligation.status == ObligationStatus.PENDING:
            touched.append(_reschedule(obligation, step=step, anchor=anchor, due=due))

    for notice, obligation in existing.items():
        if obligation.status != ObligationStatus.PENDING or notice in groups:
            continue
        if obligation.regime not in incident.regimes:
            touched.append(
                _waive(
                    obligation,
                    actor=None,
                    rationale=f"regime removed from the incident: {rationale.strip() or 'no rationale'}",
                )
            )
            continue
        # On-demand obligations, and incident ones whose condition no longer holds (they stay pending
        # until someone waives them with a rationale): their own step's clock is kept up to date.
        step = obligation.step
        anchor = _anchor_of(
            step, incident=incident, submissions=submissions, notice_of=notice_of, manual=obligation.anchor_at
        )
        touched.append(
            _reschedule(obligation, step=step, anchor=anchor, due=deadlines.due_at(step, anchor, calendar))
        )
    return touched


def _year_of(incident: Incident, calendar: deadlines.TenantCalendar) -> int:
    """The calendar year an incident counts in for annual logs (HIPAA: the year of discovery), in the
    tenant's time zone: discovered, else aware, else declared."""
    moment = incident.discovered_at or incident.aware_at or incident.declared_at
    return timezone.localtime(moment, timezone=calendar.zone).year


def _sync_annual(incident, *, steps, calendar, authorities) -> list[Obligation]:
    """Collect the incident into the annual obligation of each applicable annual step (creating it for the
    first incident of the year), and release it from pending ones it no longer belongs to (condition false,
    regime removed, year corrected). Submitted or waived annual obligations keep their links."""
    facts = calendar.facts
    wanted = {
        (step.pk, _year_of(incident, calendar)): step
        for step in steps
        # Conservative, as for incident steps: a condition not known yet (None) counts as applying.
        if step.scope == StepScope.ANNUAL
        and applies(step.applies_when, facts=facts, incident=incident) is not False
    }
    links = {
        (link.obligation.step_id, link.obligation.period_year): link
        for link in AnnualObligationIncident.unscoped.filter(incident=incident).select_related("obligation")
    }
    touched = []
    for key, link in links.items():
        if key not in wanted and link.obligation.status == ObligationStatus.PENDING:
            link.delete()
            publish(
                verb="obligation.released",
                actor=None,
                target=link.obligation,
                tenant_id=incident.tenant_id,
                incident_id=incident.pk,
                data={"notice": link.obligation.notice, "year": link.obligation.period_year},
            )
            touched.append(link.obligation)
    for (_, year), step in wanted.items():
        if (step.pk, year) in links:
            continue
        annual, created = _annual_for(
            incident, step=step, year=year, calendar=calendar, authorities=authorities
        )
        AnnualObligationIncident.unscoped.create(
            tenant_id=incident.tenant_id, obligation=annual, incident=incident
        )
        if not created:
            publish(
                verb="obligation.collected",
                actor=None,
                target=annual,
                tenant_id=incident.tenant_id,
                incident_id=incident.pk,
                data={"notice": annual.notice, "year": year, "due_at": _iso(annual.due_at)},
            )
        touched.append(annual)
    return touched


def _annual_for(incident, *, step, year, calendar, authorities) -> tuple[Obligation, bool]:
    """The tenant's obligation of this annual step for this year, locked; created when missing (its clock
    starts on January 1 of the next year, tenant time, and the step's period runs from there)."""
    lookup = {"tenant_id": incident.tenant_id, "step": step, "period_year": year, "incident__isnull": True}
    annual = Obligation.unscoped.select_for_update().filter(**lookup).first()
    if annual is not None:
        return annual, False
    anchor = datetime(year + 1, 1, 1, tzinfo=calendar.zone)
    authority = _authority_for(step, step.regime, authorities)
    try:
        with transaction.atomic():
            annual = _create(
                actor=None,
                tenant=incident.tenant,
                incident=None,
                step=step,
                authority=authority,
                recipient=authority.name if authority else step.recipient,
                anchor=anchor,
                due=deadlines.due_at(step, anchor, calendar),
                period_year=year,
                timeline_incident_id=incident.pk,
            )
    except (IntegrityError, ValidationError):
        # Another incident of the same year created it concurrently.
        return Obligation.unscoped.select_for_update().get(**lookup), False
    return annual, True


def _create(
    *,
    actor,
    tenant,
    incident,
    step,
    authority,
    recipient,
    anchor,
    due,
    manual=None,
    period_year=None,
    timeline_incident_id=None,
) -> Obligation:
    obligation = Obligation(
        tenant_id=tenant.pk,
        incident=incident,
        period_year=period_year,
        regime=step.regime.code,
        step=step,
        notice=step.notice,
        recipient=recipient[:300],
        authority=authority,
        anchor_at=manual,
        clock_started_at=anchor,
        due_at=due,
        created_by=actor,
    )
    obligation.next_reminder_at = reminders.obligation_next_reminder_at(obligation, settings=tenant.settings)
    validate(obligation)
    obligation.save(force_insert=True)
    publish(
        verb="obligation.created",
        actor=actor,
        target=obligation,
        tenant_id=tenant.pk,
        incident_id=incident.pk if incident is not None else timeline_incident_id,
        changes=diff(obligation, {}, OBLIGATION_FIELDS),
        data={"step": step.code, "regime": step.regime.code, "due_at": _iso(due), "year": period_year},
    )
    return obligation


def _reschedule(obligation: Obligation, *, step, anchor, due) -> Obligation:
    if (obligation.step_id, obligation.clock_started_at, obligation.due_at) == (step.pk, anchor, due):
        return obligation
    before = snapshot(obligation, OBLIGATION_FIELDS)
    obligation.step = step
    obligation.clock_started_at = anchor
    obligation.due_at = due
    # The reminder points move with the deadline (points already processed stay done).
    obligation.next_reminder_at = reminders.obligation_next_reminder_at(obligation)
    obligation.save(update_fields=["step", "clock_started_at", "due_at", "next_reminder_at", "updated_at"])
    publish(
        verb="obligation.rescheduled",
        actor=None,
        target=obligation,
        tenant_id=obligation.tenant_id,
        incident_id=obligation.incident_id,
        changes=diff(obligation, before, OBLIGATION_FIELDS),
        data={"old_due_at": _iso(before["due_at"]), "new_due_at": _iso(due), "step": step.code},
    )
    return obligation


def _waive(obligation: Obligation, *, actor, rationale: str) -> Obligation:
    before = snapshot(obligation, OBLIGATION_FIELDS)
    obligation.status = ObligationStatus.WAIVED
    obligation.waived_rationale = rationale
    obligation.waived_by = actor
    obligation.waived_at = timezone.now()
    obligation.save(update_fields=["status", "waived_rationale", "waived_by", "waived_at", "updated_at"])
    publish(
        verb="obligation.waived",
        actor=actor,
        target=obligation,
        tenant_id=obligation.tenant_id,
        incident_id=obligation.incident_id,
        changes=diff(obligation, before, OBLIGATION_FIELDS),
        data={"rationale": rationale},
    )
    return obligation


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# --------------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------------


def _lock(obligation: Obligation) -> Obligation:
    # The incident first, as obligations_sync does: one lock order, no deadlock between the two. Annual
    # obligations have no incident: sync locks them after an incident, submit and waive lock them alone.
    if obligation.incident_id is not None:
        Incident.unscoped.select_for_update().filter(pk=obligation.incident_id).first()
    return Obligation.unscoped.select_for_update().select_related("step__regime").get(pk=obligation.pk)


@transaction.atomic
def obligation_create(
    *, actor, access: Access, incident: Incident, step: RegimeStep, anchor_at=None, recipient: str = ""
) -> Obligation:
    """An on-demand obligation (a CSIRT asks for an intermediate report, the tenant acts as processor …):
    a user opens it when its condition arises, with the anchor its clock runs from."""
    _require(
        access.has_scope(incident.tenant_id, Scope.OBLIGATION_SUBMIT),
        "You may not record obligations in this tenant.",
    )
    if step.scope != StepScope.ON_DEMAND:
        why = (
            "are created automatically" if step.scope == StepScope.INCIDENT else "are guidance, not deadlines"
        )
        raise ValidationError(
            {"step": [f"Only on-demand steps are opened by hand; {step.scope} steps {why}."]}
        )
    regime = step.regime
    if regime.tenant_id not in (None, incident.tenant_id) or not regime.enabled:
        raise ValidationError({"step": ["Not a step of an enabled regime of this incident's tenant."]})
    if regime.code not in incident.regimes:
        raise ValidationError({"step": [f"The incident is not subject to {regime.code}."]})
    if step.anchor_source == "manual" and anchor_at is None:
        raise ValidationError(
            {"anchor_at": ["This step's clock runs from a time you enter (e.g. the request)."]}
        )
    require_past_times({"anchor_at": anchor_at})  # apps/core/times.py
    incident = Incident.unscoped.select_for_update(of=("self",)).select_related("tenant").get(pk=incident.pk)
    existing = {obligation.notice: obligation for obligation in Obligation.unscoped.filter(incident=incident)}
    if step.notice in existing:
        raise Conflict("The incident already has this obligation.")
    submissions = {
        notice: obligation.submitted_at
        for notice, obligation in existing.items()
        if obligation.status == ObligationStatus.SUBMITTED
    }
    notice_of = dict(RegimeStep.unscoped.filter(regime=regime).values_list("code", "notice"))
    anchor = _anchor_of(
        step, incident=incident, submissions=submissions, notice_of=notice_of, manual=anchor_at
    )
    calendar = deadlines.TenantCalendar.of(incident.tenant)
    authority = _authority_for(
        step, regime, list(Authority.unscoped.filter(tenant_id=incident.tenant_id).order_by("name", "id"))
    )
    return _create(
        actor=actor,
        tenant=incident.tenant,
        incident=incident,
        step=step,
        authority=authority,
        recipient=recipient or (authority.name if authority else step.recipient),
        anchor=anchor,
        due=deadlines.due_at(step, anchor, calendar),
        manual=anchor_at,
    )


def _validate_submission(*, submitted_at, now, recipient: str, reference: str, summary: str) -> None:
    """What a record of a sent notice must say (it is written once): to whom, and the recipient's
    reference or a summary of what was sent."""
    errors = {}
    if submitted_at > now + CLOCK_SKEW:
        errors["submitted_at"] = ["A submission cannot be in the future."]
    else:  # nor before the epoch (apps/core/times.py)
        errors.update(past_time_errors({"submitted_at": submitted_at}, now=now))
    if not recipient.strip():
        errors["recipient"] = ["Say to whom the notice was sent."]
    if not (reference.strip() or summary.strip()):
        missing = "Give the recipient's reference or a summary of what was sent."
        errors["reference"] = errors["summary"] = [missing]
    if errors:
        raise ValidationError(errors)


def obligation_submission_errors(
    *, obligation: Obligation, submitted_at=None, recipient: str = "", reference: str = "", summary: str = ""
) -> dict[str, list[str]]:
    """What obligation_submit would refuse in these fields, without recording anything: for a form that
    shows every problem at once (its own and the record's)."""
    now = timezone.now()
    try:
        _validate_submission(
            submitted_at=submitted_at or now,
            now=now,
            recipient=recipient.strip() or obligation.recipient,
            reference=reference,
            summary=summary,
        )
    except ValidationError as exc:
        return exc.message_dict
    return {}


@transaction.atomic
def obligation_submit(
    *,
    actor,
    access: Access,
    obligation: Obligation,
    submitted_at: datetime | None = None,
    reference: str = "",
    recipient: str = "",
    summary: str = "",
    copy: File | None = None,
) -> Obligation:
    """Record that the notice was sent (when, by whom, to whom — the obligation's recipient unless named —,
    the recipient's reference or a summary, optionally the copy of what was sent): pending → submitted,
    once (a database trigger refuses later changes). The clocks that run from this submission start now
    (NIS2 final report, DORA reports)."""
    _require(
        access.has_scope(obligation.tenant_id, Scope.OBLIGATION_SUBMIT),
        "You may not record submissions in this tenant.",
    )
    obligation = _lock(obligation)
    if obligation.status != ObligationStatus.PENDING:
        raise Conflict(f"This obligation is already {obligation.status}.")
    now = timezone.now()
    submitted_at = submitted_at or now
    recipient = recipient.strip() or obligation.recipient
    _validate_submission(
        submitted_at=submitted_at, now=now, recipient=recipient, reference=reference, summary=summary
    )
    before = snapshot(obligation, OBLIGATION_FIELDS)
    obligation.status = ObligationStatus.SUBMITTED
    obligation.submitted_at = submitted_at
    obligation.submitted_by = actor
    obligation.submitted_to = recipient[:300]
    obligation.reference = reference
    obligation.summary = summary
    if copy is not None:
        stored = copies.store_copy(tenant_id=obligation.tenant_id, file=copy)
        obligation.copy_name = stored.name
        obligation.copy_sha256 = stored.sha256
        obligation.copy_size = stored.size
        obligation.copy_storage_key = stored.storage_key
    validate(obligation)
    obligation.save()
    publish(
        verb="obligation.submitted",
        actor=actor,
        target=obligation,
        tenant_id=obligation.tenant_id,
        incident_id=obligation.incident_id,
        changes=diff(obligation, before, OBLIGATION_FIELDS),
        data={"step": obligation.step.code, "regime": obligation.regime, "late": _late(obligation)},
    )
    if obligation.incident_id is not None:
        obligations_sync(incident_id=obligation.incident_id)
    return obligation


@transaction.atomic
def obligation_anchor(
    *, actor, access: Access, obligation: Obligation, anchor_at: datetime, rationale: str
) -> Obligation:
    """Enter the anchor of a step whose clock runs from a time only a person knows (anchor_source
    `manual`, e.g. AU-2: when there were reasonable grounds to believe an eligible breach occurred):
    sets clock_started_at, due_at (the deadline engine) and the next reminder, audited with the rationale
    on the incident's timeline. 409 unless pending."""
    _require(
        access.has_scope(obligation.tenant_id, Scope.OBLIGATION_SUBMIT),
        "You may not change obligations in this tenant.",
    )
    if not (rationale or "").strip():
        raise ValidationError({"rationale": ["Say why the clock starts at this time."]})
    obligation = _lock(obligation)
    if obligation.status != ObligationStatus.PENDING:
        raise Conflict(f"This obligation is already {obligation.status}.")
    step = obligation.step
    if step.anchor_source != "manual" or obligation.incident_id is None:
        why = "the year's end" if obligation.incident_id is None else step.anchor_source
        raise ValidationError(
            {"anchor_at": [f"This obligation's clock runs from {why}, not a time you enter."]}
        )
    if anchor_at > timezone.now() + CLOCK_SKEW:
        raise ValidationError({"anchor_at": ["An anchor cannot be in the future."]})
    require_past_times({"anchor_at": anchor_at})  # nor before the epoch (apps/core/times.py)
    tenant = Tenant.objects.get(pk=obligation.tenant_id)
    before = snapshot(obligation, OBLIGATION_FIELDS)
    obligation.anchor_at = anchor_at
    obligation.clock_started_at = anchor_at
    obligation.due_at = deadlines.due_at(step, anchor_at, deadlines.TenantCalendar.of(tenant))
    obligation.next_reminder_at = reminders.obligation_next_reminder_at(obligation, settings=tenant.settings)
    validate(obligation)
    obligation.save(
        update_fields=["anchor_at", "clock_started_at", "due_at", "next_reminder_at", "updated_at"]
    )
    publish(
        verb="obligation.anchored",
        actor=actor,
        target=obligation,
        tenant_id=obligation.tenant_id,
        incident_id=obligation.incident_id,
        changes=diff(obligation, before, OBLIGATION_FIELDS),
        data={"step": step.code, "rationale": rationale.strip(), "due_at": _iso(obligation.due_at)},
    )
    # Steps sharing the notice keep the earliest limit among them (usually a no-op).
    obligations_sync(incident_id=obligation.incident_id)
    return obligation


def _late(obligation: Obligation) -> bool:
    return obligation.due_at is not None and obligation.submitted_at > obligation.due_at


@transaction.atomic
def obligation_waive(*, actor, access: Access, obligation: Obligation, rationale: str) -> Obligation:
    """Close an obligation without notifying, with the reason (e.g. "no risk to data subjects", GDPR
    Art. 33(1)): a manager's decision, audited."""
    _require(
        access.has_scope(obligation.tenant_id, Scope.OBLIGATION_WAIVE), "Your role may not waive obligations."
    )
    if not (rationale or "").strip():
        raise ValidationError({"rationale": ["Waiving an obligation needs a rationale."]})
    obligation = _lock(obligation)
    if obligation.status != ObligationStatus.PENDING:
        raise Conflict(f"This obligation is already {obligation.status}.")
    return _waive(obligation, actor=actor, rationale=rationale.strip())


# --------------------------------------------------------------------------------------------------
# Authorities
# --------------------------------------------------------------------------------------------------

AUTHORITY_FIELDS = [
    "kind",
    "name",
    "jurisdiction",
    "country",
    "regimes",
    "email",
    "phone",
    "portal_url",
    "notes",
    "last_verified_at",
]


def _require_tenant_admin(access: Access, tenant_id) -> None:
    _require(
        access.has_scope(tenant_id, Scope.TENANT_ADMIN), "You do not administer this tenant's authorities."
    )


@transaction.atomic
def authority_create(*, actor, access: Access, tenant: Tenant, **fields) -> Authority:
    _require_tenant_admin(access, tenant.id)
    unknown = sorted(set(fields) - set(AUTHORITY_FIELDS))
    if unknown:
        raise ValidationError({name: ["Unknown or read-only field."] for name in unknown})
    authority = Authority(tenant=tenant, **fields)
    validate(authority)
    authority.save(force_insert=True)
    publish(
        verb="authority.created",
        actor=actor,
        target=authority,
        tenant_id=tenant.id,
        changes=diff(authority, {}, AUTHORITY_FIELDS),
    )
    return authority


@transaction.atomic
def authority_update(*, actor, access: Access, authority: Authority, **fields) -> Authority:
    _require_tenant_admin(access, authority.tenant_id)
    unknown = sorted(set(fields) - set(AUTHORITY_FIELDS))
    if unknown:
        raise ValidationError({name: ["Unknown or read-only field."] for name in unknown})
    authority = Authority.unscoped.select_for_update().get(pk=authority.pk)
    before = snapshot(authority, AUTHORITY_FIELDS)
    for name, value in fields.items():
        setattr(authority, name, value)
    validate(authority)
    authority.save()
    changes = diff(authority, before, AUTHORITY_FIELDS)
    if changes:
        publish(
            verb="authority.updated",
            actor=actor,
            target=authority,
            tenant_id=authority.tenant_id,
            changes=changes,
        )
    return authority
