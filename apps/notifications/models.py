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
        constraints = [
            # Target of children's composite foreign keys (tenant_id, <link>): links stay in one tenant.
            models.UniqueConstraint(fields=["tenant", "id"], name="notif_authority_tenant_id"),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="notif_authority_tenant")]

    def __str__(self) -> str:
        return f"{self.name} ({self.jurisdiction})"


class Obligation(UUIDModel, TenantScopedModel):
    """One notice an incident owes (design rule 7: deadlines are rows, not timers). Steps sharing a notice
    key are one obligation, due at the earliest applicable limit. `status` changes only through the
    submit and waive actions.

    Annual steps (scope `annual`, e.g. HIPAA-4: breaches of fewer than 500 people, logged to HHS within
    60 days after the calendar year ends) are ONE obligation per (tenant, step, year) that collects its
    incidents: `incident` is null, `period_year` is set, and `AnnualObligationIncident` lists the incidents.
    Chosen over a separate AnnualObligation model so that submit/waive, reminders, the calendar feed, the
    list's filters and isolation work on annual rows unchanged; `?incident=` matches an annual obligation
    through its collected incidents.

    The submission (`submitted_*`, `reference`, `summary`, the attached `copy_*`) is written once: a
    database trigger refuses changing it once the row is submitted (migration 0005)."""

    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.PROTECT, related_name="obligations"
    )
    period_year = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Annual obligations: the calendar year they collect."
    )
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
    # The next reminder or escalation point (apps.notifications.reminders), kept in step with due_at by the
    # obligation services: the reminder scanner reads it through a partial index, not the whole table.
    next_reminder_at = models.DateTimeField(null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_to = models.CharField(max_length=300, blank=True)
    reference = models.CharField(max_length=200, blank=True, help_text="The recipient's case number.")
    summary = models.TextField(blank=True)
    # The copy of what was sent, content-addressed in the "evidence" storage (apps.notifications.copies).
    copy_name = models.CharField(max_length=150, blank=True, db_default="")
    copy_sha256 = models.CharField(max_length=64, blank=True, db_default="")
    copy_size = models.PositiveBigIntegerField(null=True, blank=True)
    copy_storage_key = models.CharField(max_length=300, blank=True, db_default="")
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
            models.UniqueConstraint(
                fields=["tenant", "step", "period_year"],
                condition=models.Q(incident__isnull=True),
                name="notif_obligation_one_per_year",
            ),
            models.CheckConstraint(
                condition=models.Q(incident__isnull=True, period_year__isnull=False)
                | models.Q(incident__isnull=False, period_year__isnull=True),
                name="notif_obligation_incident_or_year",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ObligationStatus.SUBMITTED) | models.Q(submitted_at__isnull=False),
                name="notif_obligation_submitted_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(copy_storage_key="") | models.Q(status=ObligationStatus.SUBMITTED),
                name="notif_obligation_copy_only_when_submitted",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ObligationStatus.WAIVED) | ~models.Q(waived_rationale=""),
                name="notif_obligation_waived_has_rationale",
            ),
            # Target of children's composite foreign keys (tenant_id, <link>): links stay in one tenant.
            models.UniqueConstraint(fields=["tenant", "id"], name="notif_obligation_tenant_id"),
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
            # The reminder scanner: pending obligations with a reminder point ahead, by its time.
            models.Index(
                fields=["next_reminder_at"],
                name="notif_obligation_reminder_due",
                condition=models.Q(status=ObligationStatus.PENDING, next_reminder_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        if self.incident_id is None:
            return f"{self.notice} of {self.period_year}"
        return f"{self.notice} of incident {self.incident_id}"

    @property
    def is_overdue(self) -> bool:
        return (
            self.status == ObligationStatus.PENDING
            and self.due_at is not None
            and self.due_at < timezone.now()
        )


class AnnualObligationIncident(UUIDModel, TenantScopedModel):
    """An incident collected into an annual obligation (HIPAA-4's yearly log …). Links stay after the
    obligation is submitted: `added_at` later than its `submitted_at` means the incident was not in that
    log."""

    obligation = models.ForeignKey(Obligation, on_delete=models.CASCADE, related_name="collected")
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["obligation", "incident"], name="notif_annual_incident_once")
        ]
        indexes = [models.Index(fields=["tenant", "incident"], name="notif_annual_incident")]

    def __str__(self) -> str:
        return f"{self.incident_id} in {self.obligation_id}"


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
            ),
            # Target of children's composite foreign keys (tenant_id, <link>): links stay in one tenant.
            models.UniqueConstraint(fields=["tenant", "id"], name="notif_notification_tenant_id"),
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
    html_body = models.TextField(blank=True, help_text="E-mail: the HTML alternative of `body`.")
    payload = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Target of children's composite foreign keys (tenant_id, <link>): links stay in one tenant.
            models.UniqueConstraint(fields=["tenant", "id"], name="notif_outbox_tenant_id"),
            # A message of a notification is that notification's tenant's: with a NULL tenant the composite
            # foreign key (MATCH SIMPLE) would not be checked.
            models.CheckConstraint(
                condition=models.Q(notification__isnull=True) | models.Q(tenant__isnull=False),
                name="notif_outbox_notification_has_tenant",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="notif_outbox_due",
            ),
            # The given-up messages, counted for /readyz and the admin index without reading the delivered.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="dead"),
                name="notif_outbox_dead",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient} ({self.status})"


class ReminderSent(UUIDModel, TenantScopedModel):
    """One reminder point of one obligation, done (design rule 7): written in the transaction that told
    the recipients, so a point is processed once whoever retries. `skipped`: passed while a later point
    was already due (one catch-up message, not a burst of stale ones)."""

    obligation = models.ForeignKey(Obligation, on_delete=models.CASCADE, related_name="reminders_sent")
    point = models.CharField(max_length=20, help_text="e.g. 50%, 1h, overdue.")
    sent_at = models.DateTimeField()
    skipped = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "reminders sent"
        constraints = [
            models.UniqueConstraint(fields=["obligation", "point"], name="notif_remindersent_once_per_point")
        ]

    def __str__(self) -> str:
        return f"{self.point} of {self.obligation_id}"


class Course(UUIDModel, TenantScopedModel):
    """A training course of a tenant (ISO/IEC 27001:2022 A.6.3): incident reporting awareness, incident
    handler training … Mandatory courses are assigned to every new member of the tenant."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    mandatory = models.BooleanField(default=False)
    recurrence_months = models.PositiveSmallIntegerField(
        default=12, help_text="Months after completion until it is due again; 0: once."
    )
    due_within_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days to complete once assigned."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="notif_course_tenant_name"),
            # Target of children's composite foreign keys (tenant_id, <link>): links stay in one tenant.
            models.UniqueConstraint(fields=["tenant", "id"], name="notif_course_tenant_id"),
        ]
        indexes = [models.Index(fields=["tenant", "name", "id"], name="notif_course_tenant")]

    def __str__(self) -> str:
        return self.name


class TrainingAssignment(UUIDModel, TenantScopedModel):
    """A course one person has to complete by `due_at`. At most one open assignment per (course, user);
    completing a recurring course opens the next one."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_assignments"
    )
    due_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_reminder_point = models.CharField(max_length=20, blank=True)
    next_reminder_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["course", "user"],
                condition=models.Q(completed_at__isnull=True),
                name="notif_assignment_one_open",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "due_at", "id"], name="notif_assignment_tenant"),
            models.Index(fields=["user", "due_at"], name="notif_assignment_user"),
            # The training reminder scanner: open assignments by their next reminder point.
            models.Index(
                fields=["next_reminder_at"],
                name="notif_assignment_reminder_due",
                condition=models.Q(completed_at__isnull=True, next_reminder_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course_id} for {self.user_id}"


class CalendarFeed(UUIDModel):
    """A person's iCalendar feed. The secret in its URL is an HMAC of (id, nonce) under SECRET_KEY: the
    database alone does not reveal it, the owner can see it again, and rotating the nonce revokes it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    nonce = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"calendar feed of {self.user_id}"


class NotificationPreference(UUIDModel):
    """A person's channels for one kind of notification. No row: every channel on. Critical notifications
    (a deadline overdue) ignore it: they cannot be silenced."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=60)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notif_preference_user_kind")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.user_id}"


class WebhookSubscription(UUIDModel, TenantScopedModel):
    """An outbound webhook of a tenant (api-v1, Webhook deliveries): the tenant's events of the listed types
    are POSTed to `url`, signed with `secret` (HMAC-SHA256), through the outbox."""

    url = models.URLField(max_length=500)
    events = ArrayField(models.CharField(max_length=60), default=list)
    secret = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Target of children's composite foreign keys (tenant_id, <link>): links stay in one tenant.
            models.UniqueConstraint(fields=["tenant", "id"], name="notif_webhook_tenant_id"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="notif_webhook_tenant"),
            # Every webhook-type domain event looks up its tenant's active subscriptions.
            models.Index(fields=["tenant"], condition=models.Q(active=True), name="notif_webhook_active"),
        ]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(UUIDModel, TenantScopedModel):
    """One attempt to deliver one outbox message to a webhook: the delivery log of api-v1."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="webhook_deliveries")
    event_type = models.CharField(max_length=60)
    attempt = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["subscription", "-created_at", "-id"], name="notif_webhook_delivery")]

    def __str__(self) -> str:
        return f"attempt {self.attempt} of {self.message_id}: {self.status_code or self.error[:40]}"
