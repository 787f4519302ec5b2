from celery import shared_task
from django.conf import settings

from apps.core.origin import Origin, origin_as
from apps.evidence.services import evidence_integrity_sweep as sweep


@shared_task(name="apps.evidence.tasks.evidence_integrity_sweep")
def evidence_integrity_sweep() -> dict:
    """Beat: re-verify the stored evidence of every tenant, resuming where the last run stopped. A system
    job across tenants: each item's result is recorded inside that item's tenant context (services)."""
    with origin_as(Origin(channel="task")):
        run = sweep(batch_size=settings.EVIDENCE_SWEEP_BATCH, max_items=settings.EVIDENCE_SWEEP_MAX_PER_RUN)
    return {"checked": run.checked, "failures": run.failures, "wrapped": run.wrapped, "skipped": run.skipped}
