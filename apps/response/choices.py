from django.db import models


class IncidentStatus(models.TextChoices):
    DECLARED = "declared", "Declared"
    INVESTIGATING = "investigating", "Investigating"
    CONTAINED = "contained", "Contained"
    ERADICATED = "eradicated", "Eradicated"
    RECOVERED = "recovered", "Recovered"
    CLOSED = "closed", "Closed"


class Severity(models.TextChoices):
    P1 = "P1", "P1 - critical"
    P2 = "P2", "P2 - high"
    P3 = "P3", "P3 - medium"
    P4 = "P4", "P4 - low"


class GrantPermission(models.TextChoices):
    VIEW = "view", "View"
    CHANGE = "change", "Change"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class OpenActionsDecision(models.TextChoices):
    """What closing an incident does with its open response actions (the closer decides)."""

    COMPLETE = "complete", "Mark them done"
    CANCEL = "cancel", "Cancel them, with a reason"
    CARRY_OVER = "carry_over", "Carry them over to the review's corrective actions"


ACTION_TRANSITIONS = {
    ActionStatus.OPEN: {ActionStatus.DONE, ActionStatus.CANCELLED},
    ActionStatus.DONE: {ActionStatus.OPEN},
    ActionStatus.CANCELLED: {ActionStatus.OPEN},
}


class TimelineKind(models.TextChoices):
    AUTOMATIC = "automatic", "Automatic"
    OBSERVATION = "observation", "Observation"
    COMMUNICATION = "communication", "Communication"


# What people add to a timeline; automatic entries are written by the platform as things happen.
MANUAL_TIMELINE_KIND_CHOICES = [
    (kind.value, kind.label) for kind in (TimelineKind.OBSERVATION, TimelineKind.COMMUNICATION)
]


class Direction(models.TextChoices):
    INTERNAL = "internal", "Internal"
    EXTERNAL = "external", "External"
