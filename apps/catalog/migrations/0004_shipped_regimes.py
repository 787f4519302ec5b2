"""Ships the notification regimes and their steps, one step per row of deadlines.csv.

The CSV is a copy kept in this app (apps/catalog/data/deadlines.csv): the migration reads it from there and
never from ../shared. `notice_contents` summarises what the main notices must contain
(research/regulatory-clocks.md); blank where the sources do not say.
"""

import csv
from pathlib import Path

from django.db import migrations

CSV_PATH = Path(__file__).resolve().parent.parent / "data" / "deadlines.csv"

# Where each shipped regime is law (authorities of that jurisdiction receive its notices); blank: contractual.
JURISDICTIONS = {
    "gdpr": "EU",
    "uk-gdpr": "GB",
    "uk-pecr": "GB",
    "uk-nis": "GB",
    "nis2": "EU",
    "dora": "EU",
    "sec-8k": "US",
    "hipaa": "US",
    "circia": "US",
    "pci-visa": "",
    "pci-mastercard": "",
    "pci-dss": "",
    "eidas": "EU",
    "eidas-qtsp": "EU",
    "au-ndb": "AU",
    "pipeda": "CA",
    "pdpa-sg": "SG",
    "cert-in": "IN",
    "dpdp-in": "IN",
    "lgpd": "BR",
}

# Steps whose recipient is not an authority (data subjects, clients, an internal record, the controller …).
NOT_TO_AUTHORITY = {
    *("GDPR-1", "GDPR-4", "GDPR-5", "UK-2", "NIS2-8", "DORA-7", "SEC-2", "HIPAA-1", "HIPAA-2", "HIPAA-5"),
    *("PCI-5", "AU-1", "AU-3", "CA-2", "CA-3", "SG-1", "SG-2", "SG-4", "IN-4", "BR-2"),
}

_GDPR_33_3 = (
    "Nature of the breach, with categories and approximate numbers of data subjects and of records; "
    "DPO or other contact point; likely consequences; measures taken or proposed, including mitigation "
    "(Art. 33(3))."
)
_GDPR_34_2 = (
    "In clear and plain language: the nature of the breach; DPO or other contact point; likely "
    "consequences; measures taken or proposed (Art. 34(2))."
)
_DORA_INITIAL = (
    "Incident reference code; date and time of detection and of classification; description; the "
    "classification criteria met; Member States impacted; how the incident was discovered; origin if "
    "known; whether a business continuity plan was activated; reclassification (Del. Reg. 2025/301 Art. 2; "
    "ITS 2025/302 template). Missing values are estimated."
)
NOTICE_CONTENTS = {
    "GDPR-2": _GDPR_33_3,
    "GDPR-4": _GDPR_34_2,
    "GDPR-5": "Facts of the breach, its effects and the remedial action taken (Art. 33(5)).",
    "UK-1": _GDPR_33_3,
    "UK-2": _GDPR_34_2,
    "UK-4": "Operator name and services; time of the incident; duration; nature and impact; cross-border impact.",
    "NIS2-1": "Whether the incident is suspected of being caused by unlawful or malicious acts, and whether it "
    "could have a cross-border impact (Art. 23(4)(a)).",
    "NIS2-2": "An update of the early warning; an initial assessment of the incident, its severity and impact; "
    "indicators of compromise where available (Art. 23(4)(b)).",
    "NIS2-3": "An update of the early warning; an initial assessment of the incident, its severity and impact; "
    "indicators of compromise where available (Art. 23(4)(b)).",
    "NIS2-5": "A detailed description of the incident, its severity and impact; the type of threat or root "
    "cause; applied and ongoing mitigation measures; cross-border impact where applicable (Art. 23(4)(d)).",
    "NIS2-6": "Progress of the handling of the incident still ongoing (Art. 23(4)(e)).",
    "NIS2-7": "As the final report: description, severity and impact; threat or root cause; mitigation; "
    "cross-border impact (Art. 23(4)(d)-(e)).",
    "DORA-1": _DORA_INITIAL,
    "DORA-2": _DORA_INITIAL,
    "DORA-3": "Updates: e.g. recovery time, classification criteria detail, threat and technique, affected "
    "functions and infrastructure, client impact, indicators of compromise, temporary actions (Art. 3).",
    "DORA-5": "Root causes; dates and times of resolution and of root-cause remediation; how the incident was "
    "resolved; information for resolution authorities; direct and indirect costs, losses and recoveries; "
    "recurring incidents (Del. Reg. 2025/301 Art. 4).",
    "DORA-6": "The reasons why the deadline cannot be met (Art. 5(3)).",
    "DORA-7": "The incident and the measures taken to mitigate its adverse effects (Art. 19(3)).",
    "SEC-1": "Material aspects of the nature, scope and timing of the incident, and its material impact or "
    "reasonably likely material impact, including on financial condition and results of operations.",
    "SEC-3": "The information that was undetermined or unavailable at the original filing.",
    "HIPAA-1": "What happened, with the date of breach and of discovery; the types of PHI; steps individuals "
    "should take; what the entity is doing; contact procedures (toll-free number, e-mail, web site or "
    "postal address) (164.404(c)).",
    "HIPAA-2": "As the notice to individuals (164.406(c)).",
    "HIPAA-3": "As specified on the HHS web site (breach portal).",
    "CIRCIA-1": "Description of the incident and its impact; exploited vulnerabilities; tactics, techniques and "
    "procedures; actor information; categories of information affected; the entity's details.",
    "CIRCIA-2": "Date, amount and currency of the ransom; payment instructions; outcome.",
    "EIDAS-1": "The breach or disruption and its impact on the trust service and the personal data in it.",
    "EIDAS-2": "The breach or disruption and its impact on the trust service and the personal data in it.",
    "AU-2": "Entity identity and contact details; description of the breach; kinds of information concerned; "
    "recommended steps for individuals (s 26WK(3)).",
    "AU-3": "The contents of the statement to the Commissioner (s 26WL).",
    "CA-1": "Circumstances and cause; date or period; the personal information involved; number of "
    "individuals; steps taken to reduce harm; steps to notify; contact person.",
    "CA-2": "Enough to understand the significance of the breach and to reduce the harm, plus the items "
    "prescribed by s 10.1(4).",
    "SG-3": "Facts and timeline; how the breach was discovered; numbers affected; data affected; potential "
    "harm; remedial actions; contact (as far as known).",
    "IN-2": "Description: nature, extent, timing, location and likely impact of the breach (r. 7(2)(a)).",
    "IN-3": "Facts, cause, mitigation, findings about the person who caused the breach, remedial measures, and "
    "a report on the notices to individuals (r. 7(2)(b)).",
    "BR-1": "The nature and categories of the personal data and data subjects affected; measures taken; risks; "
    "reasons for any delay (Res. CD/ANPD 15/2024).",
    "BR-2": "In clear language: what happened, the data affected, the risks and the measures taken and "
    "recommended (Res. CD/ANPD 15/2024).",
}


def ship(apps, schema_editor):
    db = schema_editor.connection.alias  # the owner's connection migrate runs on, not the app's
    Regime = apps.get_model("catalog", "Regime")
    RegimeStep = apps.get_model("catalog", "RegimeStep")
    with CSV_PATH.open(newline="", encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    regimes = {}
    for position, row in enumerate(rows, start=1):
        code = row["regime_code"]
        enabled = row["ships_enabled"].strip().lower() == "yes"
        if code not in regimes:
            regimes[code] = Regime.objects.using(db).create(
                tenant=None,
                code=code,
                name=row["regime"],
                jurisdiction=JURISDICTIONS.get(code, ""),
                enabled=enabled,
                ships_enabled=enabled,
            )
        RegimeStep.objects.using(db).create(
            tenant=None,
            regime=regimes[code],
            code=row["id"],
            position=position,
            name=row["step"],
            recipient=row["recipient"],
            trigger=row["trigger"],
            clock_anchor=row["clock_anchor"],
            duration=int(row["duration"]) if row["duration"].strip() else None,
            unit=row["unit"],
            calendar=row["calendar"],
            citation=row["citation"],
            confidence=row["confidence"],
            anchor_source=row["anchor_source"],
            notice=row["notice"],
            scope=row["scope"],
            applies_when=row["applies_when"],
            holiday_country=row["holiday_country"],
            weekend_roll=row["weekend_roll"],
            adjustment=row["adjustment"],
            notice_contents=NOTICE_CONTENTS.get(row["id"], ""),
            notifies_authority=row["id"] not in NOT_TO_AUTHORITY,
        )


def unship(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("catalog", "RegimeStep").objects.using(db).filter(tenant=None).delete()
    apps.get_model("catalog", "Regime").objects.using(db).filter(tenant=None).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_regime_regimestep")]

    operations = [migrations.RunPython(ship, unship)]
