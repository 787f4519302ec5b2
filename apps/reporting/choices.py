from django.db import models


class ReportKind(models.TextChoices):
    """What was noticed (ISO/IEC 27001:2022 A.6.8: events, weaknesses; ISO/IEC 27035: malfunctions)."""

    EVENT = "event", "Information security event"
    WEAKNESS = "weakness", "Weakness"
    MALFUNCTION = "malfunction", "Software malfunction"


class ReportStatus(models.TextChoices):
    NEW = "new", "New"
    TRIAGED = "triaged", "Triaged"


class ReportChannel(models.TextChoices):
    """How the report reached us."""

    API = "api", "API"
    WEB = "web", "Web form"
    ADMIN = "admin", "Admin site"
    EMAIL = "email", "E-mail"
    PHONE = "phone", "Phone"
    OTHER = "other", "Other"
