from django.db import models


class EvidenceSource(models.TextChoices):
    """Where the item was taken from (ISO/IEC 27037 identification)."""

    SYSTEM = "system", "System"
    HOST = "host", "Host"
    PERSON = "person", "Person"


class CollectionMethod(models.TextChoices):
    DISK_IMAGE = "disk_image", "Disk image"
    LOG_EXPORT = "log_export", "Log export"
    SCREENSHOT = "screenshot", "Screenshot"
    EMAIL = "email", "E-mail"
    MEMORY_DUMP = "memory_dump", "Memory dump"
    OTHER = "other", "Other"


class CustodyAction(models.TextChoices):
    COLLECTED = "collected", "Collected"
    # A report's attachment entered the incident its report was assessed into (apps.evidence.subscribers).
    LINKED = "linked", "Linked to incident"
    TRANSFERRED = "transferred", "Transferred"
    ACCESSED = "accessed", "Accessed"
    DOWNLOADED = "downloaded", "Downloaded"
    VERIFIED = "verified", "Verified"
    EXPORTED = "exported", "Exported"
    SEALED = "sealed", "Sealed"
    RELEASED = "released", "Released"
    RETURNED = "returned", "Returned"


# What people record through the API; the others are written by the platform itself when it happens.
MANUAL_CUSTODY_ACTIONS = (
    CustodyAction.TRANSFERRED,
    CustodyAction.SEALED,
    CustodyAction.RELEASED,
    CustodyAction.RETURNED,
)
MANUAL_CUSTODY_ACTION_CHOICES = [(action.value, action.label) for action in MANUAL_CUSTODY_ACTIONS]
