"""Writes of evidence (ISO/IEC 27037): intake, chain of custody, re-verification and the integrity sweep.

Nothing here rewrites or deletes stored bytes: they are content-addressed and written once. Every write
publishes a domain event, so the audit trail's hash chain covers the metadata and the custody log.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone

from apps.core.errors import Conflict
from apps.core.events import diff, publish
from apps.core.files import sanitise_name
from apps.core.identity import holder_name, is_confidential_reporter, recorded_actor
from apps.core.origin import Origin, origin_as
from apps.core.times import require_past_times
from apps.core.validation import validate
from apps.evidence.choices import MANUAL_CUSTODY_ACTIONS, CollectionMethod, CustodyAction, EvidenceSource
from apps.evidence.files import SNIFF_BYTES, evidence_storage, rehash, sniff_content_type, storage_key_for
from apps.evidence.models import CustodyEvent, Evidence, IntegritySweep
from apps.evidence.package import EARLIER_CUSTODY
from apps.reporting.models import Report
from apps.response.models import Incident
from apps.tenancy.access import Access
from apps.tenancy.context import SYSTEM_DATABASE, activate
from apps.tenancy.roles import Scope

logger = logging.getLogger(__name__)

EVIDENCE_FIELDS = [
    "incident_id",
    "report_id",
    "sha256",
    "size",
    "storage_key",
    "original_name",
    "declared_content_type",
    "detected_content_type",
    "description",
    "source",
    "source_detail",
    "method",
    "tool",
    "tool_version",
    "collected_by_id",
    "collected_at",
    "collected_where",
    "uploaded_at",
    "seal_number",
    "location",
    "supersedes_id",
    "correction_reason",
]
CUSTODY_FIELDS = ["action", "from_holder", "to_holder", "purpose", "location", "at"]
SWEEP = "integrity"
_SWEEP_LOCK = "evidence:integrity-sweep"


def _holder(user, evidence: Evidence) -> str:
    """Who, as the item's custody log names them: a confidential reporter by the pseudonym only
    (apps.core.identity: the custody log travels with the item into its incident, page and package)."""
    return holder_name(user, report=evidence.report)


def _publish(*, verb: str, actor, evidence: Evidence, **kwargs) -> None:
    publish(
        verb=verb,
        actor=actor,
        target=evidence,
        tenant_id=evidence.tenant_id,
        incident_id=evidence.incident_id,
        confidential=is_confidential_reporter(actor, report=evidence.report),
        **kwargs,
    )


def _custody(*, evidence: Evidence, action: str, actor, at: datetime | None = None, **fields) -> CustodyEvent:
    event = CustodyEvent(
        tenant_id=evidence.tenant_id,
        evidence=evidence,
        action=action,
        at=at or timezone.now(),
        actor=recorded_actor(actor, report=evidence.report),
        actor_repr=_holder(actor, evidence)[:150],
        **fields,
    )
    validate(event)
    event.save(force_insert=True)
    return event


def _custody_data(event: CustodyEvent) -> dict:
    return {
        "custody_event_id": str(event.pk),
        **{name: str(getattr(event, name)) for name in CUSTODY_FIELDS if getattr(event, name)},
        **({"data": event.data} if event.data else {}),
    }


def _sha256_of(file: File) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in file.chunks():
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


def _store(*, tenant_id, file: File, sha256: str) -> str:
    """Write the bytes once under their hash; identical bytes already stored are not written again."""
    storage = evidence_storage()
    key = storage_key_for(tenant_id=tenant_id, sha256=sha256)
    if storage.exists(key):
        return key
    # A concurrent upload of the same bytes may win the race: the storage then picks another free name,
    # which is recorded as this item's key (never an overwrite).
    return storage.save(key, file)


@transaction.atomic
def evidence_add(
    *,
    actor,
    access: Access,
    file: File,
    incident: Incident | None = None,
    report: Report | None = None,
    source: str = EvidenceSource.SYSTEM,
    description: str = "",
    source_detail: str = "",
    method: str = CollectionMethod.OTHER,
    tool: str = "",
    tool_version: str = "",
    collected_by=None,
    collected_at: datetime | None = None,
    collected_where: str = "",
    seal_number: str = "",
    location: str = "",
    supersedes: Evidence | None = None,
    correction_reason: str = "",
) -> Evidence:
    """Take in one item: of an incident (evidence:write in its tenant; a closed incident still takes
    evidence), or attached by a reporter to its own report (and so of the report's incident, if any). The
    bytes are hashed while streamed (an upload through the API arrives hashed) and stored
    content-addressed; the `collected` custody entry and `evidence.added` are recorded in the same
    transaction."""
    if (incident is None) == (report is None):
        raise ValidationError({"incident": ["Name exactly one of `incident` or `report`."]})
    owner = incident or report
    if incident is not None:
        if not access.has_scope(incident.tenant_id, Scope.EVIDENCE_WRITE):
            raise PermissionDenied("You may not add evidence to this incident.")
    else:
        is_reporter = report.reporter_id == getattr(actor, "pk", None)
        may_attach = is_reporter and access.has_scope(report.tenant_id, Scope.REPORT_CREATE)
        if not (may_attach or access.has_scope(report.tenant_id, Scope.EVIDENCE_WRITE)):
            raise PermissionDenied(
                "Only the reporter (or an incident handler) may attach files to this report."
            )
        if report.confidential:
            collected_by = actor  # nobody else's name on a confidential reporter's attachment
        # Locked as an assessment locks it: a file attached while the report is assessed waits for the
        # decision, and so lands in the incident the report goes into.
        report = Report.unscoped.select_for_update(of=("self",)).get(pk=report.pk)
    if supersedes is not None and (
        supersedes.report_id != report.pk if report is not None else supersedes.incident_id != incident.pk
    ):
        raise ValidationError({"supersedes": ["A correction belongs to the same incident or report."]})
    if supersedes is not None and not correction_reason.strip():
        raise ValidationError({"correction_reason": ["Say why the earlier item is corrected."]})
    now = timezone.now()
    collected_at = collected_at or now
    require_past_times({"collected_at": collected_at}, now=now)  # apps/core/times.py

    sha256 = getattr(file, "sha256", "")
    size = file.size
    if not sha256:  # not streamed through HashingUploadHandler: hash it here, chunk by chunk
        sha256, size = _sha256_of(file)
    if not size:
        raise ValidationError({"file": ["The file is empty."]})
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    file.seek(0)
    evidence = Evidence(
        tenant_id=owner.tenant_id,
        # An attachment of a report already assessed into an incident is in that incident from the start.
        incident_id=incident.pk if incident is not None else report.incident_id,
        report=report,
        sha256=sha256,
        size=size,
        original_name=sanitise_name(file.name, default="evidence"),
        declared_content_type=(getattr(file, "content_type", "") or "")[:255],
        detected_content_type=sniff_content_type(head),
        description=description,
        source=source,
        source_detail=source_detail,
        method=method,
        tool=tool,
        tool_version=tool_version,
        collected_by=collected_by or actor,
        collected_at=collected_at,
        collected_where=collected_where,
        uploaded_by=actor,
        uploaded_at=now,
        seal_number=seal_number,
        location=location,
        supersedes=supersedes,
        correction_reason=correction_reason,
        storage_key="pending",
    )
    validate(evidence)
    evidence.storage_key = _store(tenant_id=owner.tenant_id, file=file, sha256=sha256)
    evidence.save(force_insert=True)
    collected = _custody(
        evidence=evidence,
        action=CustodyAction.COLLECTED,
        actor=actor,
        at=collected_at,
        from_holder=source_detail[:300],
        to_holder=_holder(evidence.collected_by, evidence),
        location=collected_where,
        purpose="Collection",
        data={"sha256": sha256, "size": size, "uploaded_at": now.isoformat()},
    )
    _publish(
        verb="evidence.added",
        actor=actor,
        evidence=evidence,
        changes=diff(evidence, {}, EVIDENCE_FIELDS),
        data={"sha256": sha256, "size": size, "name": evidence.original_name, **_custody_data(collected)},
    )
    return evidence


@transaction.atomic
def report_evidence_join_incident(
    *, actor, report: Report, incident: Incident, reason: dict
) -> list[Evidence]:
    """The report entered `incident` (an assessment opened or linked it): its attachments not yet in an
    incident join it, each with a `linked` custody entry and `evidence.linked`, in the assessment's
    transaction (its service checked the assessor's right). Bytes, hash and custody log stay as they were;
    an item already in an incident stays there. `reason`: the decision and assessment, for the record."""
    items = list(Evidence.objects.select_for_update().filter(report=report, incident__isnull=True))
    # Recorded on the audit trail outside this incident's rows: named in each item's `evidence.linked` row,
    # so the package's audit extract still accounts for every custody entry of its manifest.
    earlier = defaultdict(list)
    logged = CustodyEvent.objects.filter(evidence__in=items).order_by("at", "id")
    for evidence_id, event_id in logged.values_list("evidence_id", "pk"):
        earlier[evidence_id].append(str(event_id))
    for evidence in items:
        Evidence.objects.filter(pk=evidence.pk).update(incident=incident)
        evidence.incident, evidence.report = incident, report
        event = _custody(
            evidence=evidence,
            action=CustodyAction.LINKED,
            actor=actor,
            from_holder=f"Report {report.reference}",
            to_holder=f"Incident {incident.reference}",
            purpose=f"Report {report.reference} assessed into incident {incident.reference}",
            data={"report": str(report.pk), "incident": str(incident.pk), **reason},
        )
        _publish(
            verb="evidence.linked",
            actor=actor,
            evidence=evidence,
            changes={"incident_id": [None, str(incident.pk)]},
            data={**_custody_data(event), EARLIER_CUSTODY: earlier[evidence.pk]},
        )
    return items


@transaction.atomic
def custody_record(
    *,
    actor,
    access: Access,
    evidence: Evidence,
    action: str,
    from_holder: str = "",
    to_holder: str = "",
    purpose: str = "",
    location: str = "",
    at: datetime | None = None,
) -> CustodyEvent:
    """A transfer, seal, release or return, recorded by an investigator or manager (evidence:custody).
    Downloads, verifications and exports are recorded by the platform as they happen."""
    if not access.has_scope(evidence.tenant_id, Scope.EVIDENCE_CUSTODY):
        raise PermissionDenied("You may not record custody of this evidence.")
    if action not in MANUAL_CUSTODY_ACTIONS:
        raise ValidationError(
            {
                "action": [
                    f"One of: {', '.join(MANUAL_CUSTODY_ACTIONS)} (the others are recorded automatically)."
                ]
            }
        )
    if action == CustodyAction.TRANSFERRED and not (from_holder.strip() and to_holder.strip()):
        raise ValidationError({"to_holder": ["A transfer names who hands over and who receives."]})
    now = timezone.now()
    require_past_times({"at": at}, now=now)
    event = _custody(
        evidence=evidence,
        action=action,
        actor=actor,
        at=at or now,
        from_holder=from_holder,
        to_holder=to_holder,
        purpose=purpose,
        location=location,
    )
    _publish(verb=f"evidence.{action}", actor=actor, evidence=evidence, data=_custody_data(event))
    return event


@transaction.atomic
def evidence_download(*, actor, evidence: Evidence, via_grant: bool = False) -> CustodyEvent:
    """Put a download on the custody log (and the audit trail) before any byte leaves: whoever reads
    the item, a granted outsider included."""
    if not evidence_storage().exists(evidence.storage_key):
        raise Conflict(
            "The stored bytes of this item are missing; verify it to record the integrity failure."
        )
    event = _custody(
        evidence=evidence,
        action=CustodyAction.DOWNLOADED,
        actor=actor,
        to_holder=_holder(actor, evidence),
        purpose="Download",
        data={"via_grant": via_grant} if via_grant else {},
    )
    _publish(verb="evidence.downloaded", actor=actor, evidence=evidence, data=_custody_data(event))
    return event


@dataclass(frozen=True)
class Verification:
    ok: bool
    sha256_expected: str
    sha256_actual: str | None
    size_expected: int
    size_actual: int | None
    verified_at: datetime

    @property
    def missing(self) -> bool:
        return self.sha256_actual is None


def _check(evidence: Evidence) -> Verification:
    found = rehash(evidence.storage_key)
    return Verification(
        ok=found.sha256 == evidence.sha256 and found.size == evidence.size,
        sha256_expected=evidence.sha256,
        sha256_actual=found.sha256,
        size_expected=evidence.size,
        size_actual=found.size,
        verified_at=timezone.now(),
    )


def _record_verification(
    *, actor, evidence: Evidence, result: Verification, trigger: str, custody: bool, alert: bool
) -> None:
    Evidence.unscoped.filter(pk=evidence.pk).update(
        last_verified_at=result.verified_at, last_verification_ok=result.ok
    )
    evidence.last_verified_at, evidence.last_verification_ok = result.verified_at, result.ok
    data = {
        "ok": result.ok,
        "sha256_expected": result.sha256_expected,
        "sha256_actual": result.sha256_actual,
        "size_expected": result.size_expected,
        "size_actual": result.size_actual,
        "missing": result.missing,
        "trigger": trigger,
    }
    if custody:
        event = _custody(
            evidence=evidence,
            action=CustodyAction.VERIFIED,
            actor=actor,
            at=result.verified_at,
            purpose="Integrity verification (SHA-256)",
            data=data,
        )
        _publish(verb="evidence.verified", actor=actor, evidence=evidence, data=_custody_data(event))
    if alert and not result.ok:
        _publish(verb="evidence.integrity_failed", actor=actor, evidence=evidence, data=data)


@transaction.atomic
def evidence_verify(*, actor, access: Access, evidence: Evidence) -> Verification:
    """Re-hash the stored bytes (streamed) against the hash taken at intake and record the result: a
    `verified` custody entry, and `evidence.integrity_failed` on a mismatch or a missing file."""
    if not access.has_scope(evidence.tenant_id, Scope.EVIDENCE_CUSTODY):
        raise PermissionDenied("You may not verify this evidence.")
    result = _check(evidence)
    _record_verification(
        actor=actor, evidence=evidence, result=result, trigger="api", custody=True, alert=True
    )
    return result


@dataclass(frozen=True)
class SweepRun:
    checked: int
    failures: int
    wrapped: bool
    skipped: bool = False  # another sweep held the lock


def _sweep_one(evidence_id, tenant_id) -> Verification:
    """One item of the sweep, in its own transaction and inside its tenant's (system) context, so what
    the event's subscribers write is scoped like anything else. A custody entry is written when the
    result changes (first check, failure, recovery); an alert only when an item newly fails."""
    with origin_as(Origin(channel="task")), activate(Access.system([tenant_id])):
        evidence = Evidence.objects.select_related("report").get(pk=evidence_id)
        result = _check(evidence)  # the bytes are read outside any transaction or lock
        changed = evidence.last_verification_ok is not result.ok
        with transaction.atomic():
            _record_verification(
                actor=None,
                evidence=evidence,
                result=result,
                trigger="sweep",
                custody=changed,
                alert=changed,
            )
            IntegritySweep.objects.filter(name=SWEEP).update(
                position=evidence.pk, updated_at=result.verified_at
            )
    return result


def evidence_integrity_sweep(*, batch_size: int, max_items: int) -> SweepRun:
    """Re-verify every item of every tenant, in id order, in batches, resuming where the last run
    stopped (the position is saved after each item) and wrapping around at the end. A system job: one
    run at a time (a session advisory lock), never a file in memory, never a lock held while hashing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [_SWEEP_LOCK])
        if not cursor.fetchone()[0]:
            return SweepRun(checked=0, failures=0, wrapped=False, skipped=True)
    try:
        return _sweep(batch_size=batch_size, max_items=max_items)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [_SWEEP_LOCK])


def _sweep(*, batch_size: int, max_items: int) -> SweepRun:
    state, _ = IntegritySweep.objects.get_or_create(name=SWEEP)
    checked = failures = 0
    wrapped = False
    while checked < max_items:
        state.refresh_from_db()
        # Finding the work crosses tenants: the system connection (ids only; each item is then read and
        # recorded inside its own tenant's context).
        items = Evidence.unscoped.using(SYSTEM_DATABASE).order_by("id").values_list("id", "tenant_id")
        if state.position is not None:
            items = items.filter(id__gt=state.position)
        batch = list(items[: min(batch_size, max_items - checked)])
        if not batch:
            if state.position is None:
                break  # no evidence at all
            IntegritySweep.objects.filter(name=SWEEP).update(
                position=None,
                passes_completed=state.passes_completed + 1,
                last_pass_completed_at=timezone.now(),
            )
            wrapped = True
            break  # a full pass is done; the next run starts the next one
        if state.position is None:
            IntegritySweep.objects.filter(name=SWEEP).update(pass_started_at=timezone.now())
        batch_failures = 0
        for evidence_id, tenant_id in batch:
            result = _sweep_one(evidence_id, tenant_id)
            if not result.ok:
                batch_failures += 1
                logger.warning("evidence %s failed its integrity check", evidence_id)
        checked += len(batch)
        failures += batch_failures
        IntegritySweep.objects.filter(name=SWEEP).update(
            items_checked=state.items_checked + len(batch),
            failures_found=state.failures_found + batch_failures,
        )
    return SweepRun(checked=checked, failures=failures, wrapped=wrapped)


@transaction.atomic
def evidence_exported(*, actor, incident: Incident, items: list[Evidence], manifest_sha256: str) -> None:
    """After a package was built: one `exported` custody entry per item (not in the package itself)."""
    now = timezone.now()
    for evidence in items:
        event = _custody(
            evidence=evidence,
            action=CustodyAction.EXPORTED,
            actor=actor,
            at=now,
            to_holder=_holder(actor, evidence),
            purpose="Evidence package",
            data={"manifest_sha256": manifest_sha256, "incident": str(incident.pk)},
        )
        _publish(verb="evidence.exported", actor=actor, evidence=evidence, data=_custody_data(event))
