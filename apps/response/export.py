"""CSV export of an incident list, streamed row by row."""

import csv
from collections.abc import Iterable, Iterator

from apps.response.models import Incident
from apps.response.selectors import SUMMARY_FIELDS

COLUMNS = [
    "id",
    "reference",
    "tenant",
    "title",
    "status",
    "severity",
    "category",
    "impact",
    "urgency",
    "owner",
    "restricted",
    "personal_data_breach",
    "regimes",
    "declared_at",
    "aware_at",
    "closed_at",
]
# What a summary-only viewer (an executive's view of a need-to-know incident) may see of it.
SUMMARY_COLUMNS = SUMMARY_FIELDS & set(COLUMNS)
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets execute cells that start like a formula (CSV injection): quote them.
    return f"'{text}" if text.startswith(_FORMULA_PREFIXES) else text


def _row(incident: Incident) -> list[str]:
    values = {
        "id": incident.pk,
        "reference": incident.reference,
        "tenant": incident.tenant.slug,
        "title": incident.title,
        "status": incident.status,
        "severity": incident.severity,
        "category": incident.category.code if incident.category else "",
        "impact": incident.impact,
        "urgency": incident.urgency,
        "owner": incident.owner.get_username() if incident.owner else "",
        "restricted": incident.restricted,
        "personal_data_breach": incident.personal_data_breach,
        "regimes": " ".join(incident.regimes),
        "declared_at": incident.declared_at.isoformat(),
        "aware_at": incident.aware_at.isoformat() if incident.aware_at else "",
        "closed_at": incident.closed_at.isoformat() if incident.closed_at else "",
    }
    summary_only = getattr(incident, "summary_only", False)
    return [_cell(values[c]) if not summary_only or c in SUMMARY_COLUMNS else "" for c in COLUMNS]


def incident_csv_chunks(incidents: Iterable[Incident], *, rows_per_chunk: int = 500) -> Iterator[str]:
    """The CSV text in chunks of `rows_per_chunk` rows (the header first): what a streamed response sends,
    holding one chunk in memory at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    chunk: list[str] = []
    for incident in incidents:
        chunk.append(writer.writerow(_row(incident)))
        if len(chunk) == rows_per_chunk:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)
