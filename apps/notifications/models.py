from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from apps.catalog.models import RegimeStep
from apps.core.models import UUIDModel
from apps.notifications.choices import AuthorityKind, ObligationStatus, OutboxChannel, OutboxStatus
from apps.response.models import Incident
from apps.tenancy.models import Tenant, TenantScopedModel


class Authority(UUIDModel, TenantScopedModel):
    """An authority the tenant reports to, per jurisdiction (ISO/IEC 27001:2022 A.5.5, 2013 A.6.1.3):
    supervisory authority, CSIRT, financial regulator … with its contacts and when they were last checked.
    Obligations of the regimes it receives name it as their recipient."""

    kind = models.CharField(max_length=30, choices=AuthorityKind.choices)
    name = models.CharField(max_length=200)
    jurisdiction = models.CharField(
        max_length=10, help_text="An ISO 3166-1 alpha-2 code (FR, US …) or EU, as the regimes use it."
    )
    country = models.CharField(max_length=2, blank=True)
    regimes = ArrayField(
        models.CharField(max_length=30),
        default=list,
        blank=True,
        help_text="Regime codes it receives notices for (e.g. gdpr); empty: any regime of its jurisdiction.",
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    portal_url = models.URLField(blank=True)
    notes = models.TextField(blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "authorities"
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="notif_authority_tenant")]

    def __str__(self) -> str:
        return f"{self.name} ({self.jurisdiction})"


class Obligation(UUIDModel, TenantScopedModel):
    """One notice an incident owes (design rule 7: deadlines are rows, not timers). Steps sharing a notice
    key are one obligation, due at the earliest applicable limit. `status` changes only through the
    submit and waive actions."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="obligations")
    regime = models.CharField(max_length=30, help_text="The regime code.")
    step = models.ForeignKey(RegimeStep, on_delete=models.PROTECT, related_name="+")
    notice = models.CharField(max_length=60)
    recipient = models.CharField(max_length=300, blank=True)
    authority = models.ForeignKey(
        Authority, null=True, blank=True, on_delete=models.PROTECT, related_name="obligations"
    )
    anchor_at = models.DateTimeField(
        null=True, blank=True, help_text="A manual anchor (on-demand steps: when the request arrived …)."
    )
    clock_started_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=ObligationStatus.choices, default=ObligationStatus.PENDING
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_to = models.CharField(max_length=300, blank=True)
    reference = models.CharField(max_length=200, blank=True, help_text="The recipient's case number.")
    summary = models.TextField(blank=True)
    waived_at = models.DateTimeField(null=True, blank=True)
    waived_rationale = models.TextField(blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "notice"], name="notif_obligation_incident_notice"),
            models.CheckConstraint(
                condition=~models.Q(status=ObligationStatus.SUBMITTED) | models.Q(submitted_at__isnull=False),
                name="notif_obligation_submitted_has_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ObligationStatus.WAIVED) | ~models.Q(waived_rationale=""),
                name="notif_obligation_waived_has_rationale",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="notif_obligation_tenant"),
            models.Index(fields=["tenant", "incident"], name="notif_obligation_incident"),
            # The deadline scanner (reminders, escalation): pending obligations by due time, all tenants.
            models.Index(
                fields=["due_at"],
                name="notif_obligation_pending_due",
                condition=models.Q(status=ObligationStatus.PENDING),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notice} of incident {self.incident_id}"

    @property
    def is_overdue(self) -> bool:
        return (
            self.status == ObligationStatus.PENDING
            and self.due_at is not None
            and self.due_at < timezone.now()
        )


class Notification(UUIDModel, TenantScopedModel):
    """An in-app notification of one person. `dedupe_key` makes a message idempotent per recipient: the
    same reminder point of the same obligation is written once, whoever retries (design rule 7)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=60, help_text="Type, e.g. obligation.due_soon, training.overdue.")
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    link = models.CharField(max_length=500, blank=True)
    critical = models.BooleanField(default=False, help_text="Cannot be silenced (e.g. a deadline overdue).")
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"],
                condition=models.Q(dedupe_key__isnull=False),
                name="notif_notification_once_per_user",
            )
        ]
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="notif_notification_user")]

    def __str__(self) -> str:
        return self.subject


class OutboxMessage(UUIDModel):
    """Everything that leaves the building (e-mail, webhook calls), written in the transaction that caused
    it and delivered by Celery afterwards (design rule 8): a broker outage delays delivery, loses nothing.
    Platform-level: the relay crosses tenants; `tenant` records whose message it is."""

    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=20, choices=OutboxChannel.choices)
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox"
    )
    recipient = models.CharField(max_length=500, help_text="An e-mail address or a webhook URL.")
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="notif_outbox_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient} ({self.status})"
