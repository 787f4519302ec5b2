"""Writes of reports (A.6.8). Every member may report; the acknowledgement carries the reference."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.events import diff, publish
from apps.core.identity import is_confidential_reporter
from apps.core.origin import current_origin
from apps.core.times import past_time_errors
from apps.core.validation import validate
from apps.reporting.choices import ReportChannel, ReportKind, ReportStatus
from apps.reporting.models import Report
from apps.tenancy.access import Access
from apps.tenancy.models import Tenant
from apps.tenancy.roles import Scope
from apps.tenancy.services import next_reference_number

# What the audit trail records of a new report. Never the reporter: for a confidential report the event
# carries no identity at all, and for the others the event's actor already names them.
REPORT_FIELDS = [
    "reference",
    "kind",
    "title",
    "occurred_at",
    "detected_at",
    "confidential",
    "status",
    "channel",
    "received_at",
]


def _channel_of_origin() -> str:
    channel = current_origin().channel
    return channel if channel in ReportChannel.values else ReportChannel.OTHER


def _validate_times(*, occurred_at: datetime, detected_at: datetime | None, now: datetime) -> None:
    # Neither in the future nor before the epoch (apps/core/times.py); noticed after it happened.
    errors = past_time_errors({"occurred_at": occurred_at, "detected_at": detected_at}, now=now)
    if detected_at is not None and "detected_at" not in errors and detected_at < occurred_at:
        errors["detected_at"] = ["Cannot be before occurred_at."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def report_create(
    *,
    actor,
    access: Access,
    tenant: Tenant,
    kind: str,
    title: str,
    occurred_at: datetime,
    description: str = "",
    detected_at: datetime | None = None,
    confidential: bool = False,
    channel: str | None = None,
) -> Report:
    """File a report in a tenant the actor belongs to. It is acknowledged at once (the reference is the
    acknowledgement's key) and published as `report.created`; a confidential report's event carries
    neither the reporter nor the address and browser it came from."""
    if not access.has_scope(tenant.id, Scope.REPORT_CREATE):
        raise PermissionDenied("You may not report in this tenant.")
    if kind not in ReportKind.values:
        raise ValidationError({"kind": [f"One of: {', '.join(ReportKind.values)}."]})
    if channel is not None and channel not in ReportChannel.values:
        raise ValidationError({"channel": [f"One of: {', '.join(ReportChannel.values)}."]})
    now = timezone.now()
    _validate_times(occurred_at=occurred_at, detected_at=detected_at, now=now)
    number = next_reference_number(tenant=tenant, kind="report", year=now.year)
    report = Report(
        tenant=tenant,
        reference=f"{tenant.reference_prefix}-R-{now.year}-{number:04d}",
        kind=kind,
        title=title,
        description=description,
        occurred_at=occurred_at,
        detected_at=detected_at,
        confidential=confidential,
        status=ReportStatus.NEW,
        reporter=actor,
        channel=channel or _channel_of_origin(),
        received_at=now,
        acknowledged_at=now,
    )
    validate(report)
    report.save(force_insert=True)
    publish(
        verb="report.created",
        actor=actor,
        target=report,
        tenant_id=tenant.id,
        changes=diff(report, {}, REPORT_FIELDS),
        data={"reference": report.reference, "kind": kind, "confidential": confidential},
        confidential=is_confidential_reporter(actor, report=report),
    )
    return report


def report_acknowledgement(*, report: Report) -> str:
    """The text the reporter gets back when filing (A.6.8: reports are acknowledged)."""
    received = timezone.localtime(report.received_at, timezone=zoneinfo.ZoneInfo(report.tenant.time_zone))
    text = (
        f"Thank you: your report was received on {received:%Y-%m-%d at %H:%M} ({report.tenant.time_zone}) "
        f"under reference {report.reference}. The incident handlers of {report.tenant.name} will assess it; "
        "you can follow its status with this reference."
    )
    if report.confidential:
        text += f" Your identity is visible only to the incident managers of {report.tenant.name}."
    return text
