from django.db import models


class Decision(models.TextChoices):
    """The A.5.25 decision on a report."""

    INCIDENT = "incident", "Incident"
    NOT_INCIDENT = "not_incident", "Not an incident"
    DUPLICATE = "duplicate", "Duplicate"
