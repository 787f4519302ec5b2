"""`applies_when`: the extra condition of a step (deadlines.csv), on tenant facts and incident fields.

Three answers: True, False, or None when Vigil cannot tell yet (the incident has no field for it, or the
figure is not estimated). The obligation service treats None as "applies" on purpose: an obligation that
turns out not to be needed is waived with its rationale (that record is the notifiability decision ISO
27001 A.5.25 asks for), whereas a notice that was never listed is a missed deadline and a fine.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from datetime import datetime, timedelta

_COMPARISON = re.compile(r"^incident:affected_individuals\s*(?P<op>>=|<=|>|<|==)\s*(?P<n>\d+)$")
_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq}
_TENANT_FACT = re.compile(r"^(?P<negated>not\s+)?tenant:(?P<fact>[a-z0-9_]+)$")
# DORA-2: the 24-hour backstop from awareness holds only when the incident was classified major within
# 24 h of awareness (Del. Reg. 2025/301 Art. 5(2): classified later, DORA-1 alone applies).
_DORA_BACKSTOP = "classified_major_at within 24 h of aware_at"
# A trailing note in parentheses is commentary (HIPAA-4: "... (yearly log, due 60 days after year end)").
_NOTE = re.compile(r"\s*\([^()]*\)$")


def applies(condition: str, *, facts: Mapping[str, object], incident) -> bool | None:
    """Whether an `applies_when` condition holds for this tenant and incident (None: not known yet)."""
    condition = _NOTE.sub("", (condition or "").strip())
    if not condition:
        return True
    if match := _TENANT_FACT.match(condition):
        holds = bool(facts.get(match["fact"]))
        return not holds if match["negated"] else holds
    if match := _COMPARISON.match(condition):
        count = incident.affected_data_subjects
        return None if count is None else _OPS[match["op"]](count, int(match["n"]))
    if condition == "incident:more_than_500_residents_of_a_state":
        # Vigil records a total, not a count per state: at most 500 in total rules it out; more is unknown.
        count = incident.affected_data_subjects
        return False if count is not None and count <= 500 else None
    if condition == _DORA_BACKSTOP:
        return classified_within(incident.aware_at, incident.classified_major_at, hours=24)
    # incident:high_risk_to_data_subjects, incident:significant_harm, incident:service_recipients_affected,
    # incident:clients_financial_interests_affected …: assessments the incident does not record yet.
    return None


def classified_within(
    aware_at: datetime | None, classified_at: datetime | None, *, hours: int
) -> bool | None:
    if aware_at is None or classified_at is None:
        return None
    return classified_at - aware_at <= timedelta(hours=hours)
