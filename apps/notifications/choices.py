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
