from django.db import models


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    COMPLETED = "completed", "Completed"


class ActionKind(models.TextChoices):
    CORRECTIVE = "corrective", "Corrective"
    PREVENTIVE = "preventive", "Preventive"


class CorrectiveActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    VERIFIED = "verified", "Verified (effective)"
    CANCELLED = "cancelled", "Cancelled"


_S = CorrectiveActionStatus

# Simple task statuses may be PATCHed, within these transitions (design.md, rule 5). `done → in_progress`
# is the way back when verification finds the action was not effective; `verified` is final.
CORRECTIVE_ACTION_TRANSITIONS: dict[str, set[str]] = {
    _S.OPEN: {_S.IN_PROGRESS, _S.CANCELLED},
    _S.IN_PROGRESS: {_S.DONE, _S.OPEN, _S.CANCELLED},
    _S.DONE: {_S.VERIFIED, _S.IN_PROGRESS},
    _S.VERIFIED: set(),
    _S.CANCELLED: {_S.OPEN},
}

# Still to be done: these count as overdue once `due_at` has passed.
PENDING_STATUSES = (_S.OPEN, _S.IN_PROGRESS)
