"""A person's in-app notifications: reads and the one write (mark read). Each person sees only their own,
and only in the tenants they can still see (a former member's notifications of that tenant are hidden)."""

from django.db.models import QuerySet
from django.utils import timezone

from apps.notifications.models import Notification
from apps.tenancy.access import Access


def notification_list(*, access: Access) -> QuerySet[Notification]:
    """Newest first; served by the index notif_notification_user (user, -created_at, -id)."""
    return Notification.objects.filter(user_id=access.user_id)


def notification_mark_read(*, notification: Notification) -> Notification:
    """Idempotent: the first read time is kept. Not audited (a person's own inbox, not a record)."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.unscoped.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification
