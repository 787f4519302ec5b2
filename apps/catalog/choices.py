from django.db import models


class Level(models.TextChoices):
    """The default impact and urgency scale (tenants may configure their own labels in the matrix)."""

    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


# The regime codes of domain.md; the regimes themselves (steps, clocks) ship with the notifications issue.
REGIME_CODES = [
    *("gdpr", "uk-gdpr", "uk-pecr", "uk-nis", "nis2", "dora", "sec-8k", "hipaa", "circia", "pci-visa"),
    *("pci-mastercard", "pci-dss", "eidas", "eidas-qtsp", "au-ndb", "pipeda", "pdpa-sg", "cert-in"),
    *("dpdp-in", "lgpd"),
]
# They join an incident's regimes when it is a personal-data breach (domain.md); the others (sector
# regimes) join when a manager classifies the incident under them.
DATA_PROTECTION_REGIMES = frozenset({"gdpr", "uk-gdpr", "lgpd", "pdpa-sg", "pipeda", "au-ndb", "hipaa"})
