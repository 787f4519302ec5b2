from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.core.models import IdempotencyRecord


@shared_task(name="apps.core.tasks.idempotency_purge")
def idempotency_purge() -> int:
    """Forget Idempotency-Key responses older than their 24 h window (indexed on created_at)."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
