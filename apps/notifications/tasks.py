"""Celery tasks of apps.notifications: thin adapters over the services (design rule 4). Tasks take ids."""

from celery import shared_task
from django.conf import settings

from apps.core.origin import Origin, origin_as
from apps.notifications import delivery


@shared_task(
    name="apps.notifications.tasks.outbox_deliver",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def outbox_deliver(message_id: str) -> str:
    """Deliver one outbox message (idempotent: a delivered or locked message is left alone)."""
    with origin_as(Origin(channel="task")):
        return delivery.outbox_deliver(message_id=message_id).status


@shared_task(name="apps.notifications.tasks.outbox_relay", acks_late=True, ignore_result=True)
def outbox_relay() -> int:
    """Beat, every minute: enqueue a delivery for every due pending message (those written while the
    broker was down, and retries whose backoff has passed)."""
    with origin_as(Origin(channel="task")):
        return delivery.outbox_relay(
            enqueue=lambda message_id: outbox_deliver.delay(str(message_id)),
            batch_size=settings.OUTBOX_RELAY_BATCH,
            max_batches=settings.OUTBOX_RELAY_MAX_BATCHES,
        )
