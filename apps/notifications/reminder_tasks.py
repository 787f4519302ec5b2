"""Celery tasks of reminders and escalation (design rule 7). Beat runs the scanners every minute; each
scanner claims due rows with one indexed query and fans out one idempotent task per row, which runs in
that row's tenant context (TenantTask). acks_late and reject_on_worker_lost (settings) redeliver a task
whose worker died; the database dedupe makes the redelivery tell nobody twice."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, transaction

from apps.core.origin import Origin, origin_as
from apps.notifications import reminders, training
from apps.tenancy.context import SYSTEM_DATABASE
from apps.tenancy.tasks import TenantTask

logger = logging.getLogger(__name__)

RETRY = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


def _fan_out(task, claimed) -> None:
    for pk, tenant_id in claimed:
        try:
            task.apply_async(kwargs={"tenant_id": str(tenant_id), "pk": str(pk)})
        except Exception:  # broker unreachable: the claim expires and a later scan claims the row again
            logger.warning("reminders: could not enqueue %s %s, left to a later scan", task.name, pk)


@shared_task(name="apps.notifications.reminder_tasks.obligation_reminders_scan")
def obligation_reminders_scan() -> int:
    """Beat, every minute: obligations with a reminder point due, in batches claimed with SKIP LOCKED.
    A broker outage loses nothing: the claim expires and the next scan claims the rows again."""
    batch = settings.REMINDER_SCAN_BATCH
    total = 0
    with origin_as(Origin(channel="task")):
        for _ in range(settings.REMINDER_SCAN_MAX_BATCHES):
            with transaction.atomic(using=SYSTEM_DATABASE):
                claimed = reminders.obligation_reminders_claim(batch_size=batch)
                transaction.on_commit(
                    lambda claimed=claimed: _fan_out(obligation_remind, claimed), using=SYSTEM_DATABASE
                )
            total += len(claimed)
            if len(claimed) < batch:
                break
    return total


@shared_task(base=TenantTask, name="apps.notifications.reminder_tasks.obligation_remind", **RETRY)
def obligation_remind(*, tenant_id, pk) -> str | None:
    return reminders.obligation_remind(obligation_id=pk).point


@shared_task(name="apps.notifications.reminder_tasks.training_reminders_scan")
def training_reminders_scan() -> int:
    batch = settings.REMINDER_SCAN_BATCH
    total = 0
    with origin_as(Origin(channel="task")):
        for _ in range(settings.REMINDER_SCAN_MAX_BATCHES):
            with transaction.atomic(using=SYSTEM_DATABASE):
                claimed = training.training_reminders_claim(batch_size=batch)
                transaction.on_commit(
                    lambda claimed=claimed: _fan_out(training_remind, claimed), using=SYSTEM_DATABASE
                )
            total += len(claimed)
            if len(claimed) < batch:
                break
    return total


@shared_task(base=TenantTask, name="apps.notifications.reminder_tasks.training_remind", **RETRY)
def training_remind(*, tenant_id, pk) -> str | None:
    return training.training_remind(assignment_id=pk)
