from django.db import models


class ObligationStatus(models.TextChoices):
    """design.md, Statuses: pending → submitted or waived; `overdue` is shown, never stored."""

    PENDING = "pending", "Pending"
    SUBMITTED = "submitted", "Submitted"
    WAIVED = "waived", "Waived"


OVERDUE = "overdue"  # a filter value and a flag in the API: pending past due_at


class AuthorityKind(models.TextChoices):
    SUPERVISORY_AUTHORITY = "supervisory_authority", "Supervisory authority (data protection)"
    CSIRT = "csirt", "CSIRT"
    FINANCIAL_REGULATOR = "financial_regulator", "Financial regulator"
    LAW_ENFORCEMENT = "law_enforcement", "Law enforcement"
    OTHER = "other", "Other"


class OutboxChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Given up"


class NotificationKind(models.TextChoices):
    """The kinds of notification people receive, each silenceable per channel (NotificationPreference),
    except that a critical notification (e.g. a deadline overdue) reaches its recipients regardless."""

    OBLIGATION_CREATED = "obligation.created", "Notification obligation opened"
    OBLIGATION_DUE_SOON = "obligation.due_soon", "Notification deadline approaching"
    OBLIGATION_OVERDUE = "obligation.overdue", "Notification deadline overdue"
    OBLIGATION_SUBMITTED = "obligation.submitted", "Notice submitted"
    INCIDENT_ASSIGNED = "incident.assigned", "Incident assigned to you"
    INCIDENT_TRANSITIONED = "incident.transitioned", "Incident status changed"
    INCIDENT_ESCALATED = "incident.escalated", "Incident escalated to senior management"
    TRAINING_ASSIGNED = "training.assigned", "Training assigned"
    TRAINING_DUE_SOON = "training.due_soon", "Training due soon"
    TRAINING_OVERDUE = "training.overdue", "Training overdue"


class WebhookEventType(models.TextChoices):
    """Outbound webhook types (api-v1, Webhook deliveries). Each is also the verb of the domain event that
    causes it, so a subscription to `incident.transitioned` hears every `incident.transitioned` event."""

    REPORT_CREATED = "report.created", "Report created"
    INCIDENT_DECLARED = "incident.declared", "Incident declared"
    INCIDENT_TRANSITIONED = "incident.transitioned", "Incident transitioned"
    INCIDENT_UPDATED = "incident.updated", "Incident updated"
    OBLIGATION_CREATED = "obligation.created", "Obligation created"
    OBLIGATION_DUE_SOON = "obligation.due_soon", "Obligation due soon"
    OBLIGATION_OVERDUE = "obligation.overdue", "Obligation overdue"
    OBLIGATION_SUBMITTED = "obligation.submitted", "Obligation submitted"
    EVIDENCE_ADDED = "evidence.added", "Evidence added"
    EVIDENCE_INTEGRITY_FAILED = "evidence.integrity_failed", "Evidence integrity check failed"
    REVIEW_COMPLETED = "review.completed", "Review completed"
