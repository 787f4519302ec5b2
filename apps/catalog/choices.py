from django.db import models


class Level(models.TextChoices):
    """The default impact and urgency scale (tenants may configure their own labels in the matrix)."""

    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


# They join an incident's regimes when it is a personal-data breach (domain.md); the others (sector
# regimes) join when a manager classifies the incident under them.
DATA_PROTECTION_REGIMES = frozenset({"gdpr", "uk-gdpr", "lgpd", "pdpa-sg", "pipeda", "au-ndb", "hipaa"})


class StepUnit(models.TextChoices):
    """How a step's duration is counted (domain.md, Notification clocks)."""

    CALENDAR_HOURS = "calendar_hours", "Calendar hours"
    CALENDAR_DAYS = "calendar_days", "Calendar days"
    BUSINESS_DAYS = "business_days", "Business days"
    CALENDAR_MONTHS = "calendar_months", "Calendar months"
    NONE = "none", "No legal period (internal SLA)"


class StepScope(models.TextChoices):
    """How a step becomes an obligation (domain.md, "How each row becomes an obligation")."""

    INCIDENT = "incident", "Every incident the regime applies to"
    ON_DEMAND = "on_demand", "Created by a user when its condition arises"
    ANNUAL = "annual", "Collected into a yearly obligation"
    POLICY = "policy", "Guidance (policy)"
    META = "meta", "Guidance (about other deadlines)"


# Steps of these scopes become obligations; policy and meta rows are guidance shown with the regime.
OBLIGATION_SCOPES = frozenset({StepScope.INCIDENT, StepScope.ON_DEMAND, StepScope.ANNUAL})


class Confidence(models.TextChoices):
    VERIFIED = "V", "Verified against the text"
    SECONDARY = "S", "Secondary source"
    UNVERIFIED = "U", "Unverified"
