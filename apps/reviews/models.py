from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.models import UUIDModel
from apps.response.models import Incident
from apps.reviews.choices import ActionKind, CorrectiveActionStatus, ReviewStatus
from apps.tenancy.models import TenantScopedModel


class Review(UUIDModel, TenantScopedModel):
    """The post-incident review of one incident (ISO/IEC 27001:2022 A.5.27, 2013 A.16.1.6).

    `status` changes only through the `complete` action; a completed review's text is frozen."""

    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="review")
    status = models.CharField(max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT)
    timeline_summary = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    contributing_factors = models.TextField(blank=True)
    went_well = models.TextField(blank=True)
    went_badly = models.TextField(blank=True)
    lessons_learned = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Target of the corrective actions' composite foreign key (tenant_id, review_id).
            models.UniqueConstraint(fields=["tenant", "id"], name="reviews_review_tenant_id"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="reviews_review_tenant_created"),
            models.Index(fields=["tenant", "status"], name="reviews_review_tenant_status"),
        ]

    def __str__(self) -> str:
        return f"Review of {self.incident_id}"


class CorrectiveAction(UUIDModel, TenantScopedModel):
    """A corrective or preventive action decided in a review, tracked to closure (and verified effective)
    even after the incident is closed."""

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="actions")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=ActionKind.choices, default=ActionKind.CORRECTIVE)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=CorrectiveActionStatus.choices, default=CorrectiveActionStatus.OPEN
    )
    verification_note = models.TextField(blank=True, help_text="How effectiveness was checked.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "review", "-created_at"], name="reviews_action_review"),
            models.Index(fields=["tenant", "-created_at", "-id"], name="reviews_action_tenant_created"),
            # The overdue scan (dashboards, ISO report): pending actions by due date, per tenant.
            models.Index(
                fields=["tenant", "due_at"],
                name="reviews_action_overdue",
                condition=models.Q(
                    status__in=[CorrectiveActionStatus.OPEN, CorrectiveActionStatus.IN_PROGRESS]
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return (
            self.due_at is not None
            and self.due_at < timezone.now()
            and self.status in (CorrectiveActionStatus.OPEN, CorrectiveActionStatus.IN_PROGRESS)
        )
