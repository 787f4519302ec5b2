"""Ships the ENISA Reference Incident Classification Taxonomy (RSIT) and the default severity matrix."""

from django.db import migrations

RSIT = {
    ("abusive-content", "Abusive content"): [
        ("spam", "Spam"),
        ("harmful-speech", "Harmful speech"),
        ("violence", "Child sexual exploitation, sexual or violent content"),
    ],
    ("malicious-code", "Malicious code"): [
        ("infected-system", "Infected system"),
        ("c2-server", "Command-and-control server"),
        ("malware-distribution", "Malware distribution"),
        ("malware-configuration", "Malware configuration"),
    ],
    ("information-gathering", "Information gathering"): [
        ("scanner", "Scanning"),
        ("sniffing", "Sniffing"),
        ("social-engineering", "Social engineering"),
    ],
    ("intrusion-attempts", "Intrusion attempts"): [
        ("ids-alert", "Exploitation of known vulnerabilities (IDS alert)"),
        ("brute-force", "Login attempts (brute force)"),
        ("exploit", "New attack signature (exploit)"),
    ],
    ("intrusions", "Intrusions"): [
        ("privileged-account-compromise", "Privileged account compromise"),
        ("unprivileged-account-compromise", "Unprivileged account compromise"),
        ("application-compromise", "Application compromise"),
        ("system-compromise", "System compromise"),
        ("burglary", "Burglary"),
    ],
    ("availability", "Availability"): [
        ("dos", "Denial of service"),
        ("ddos", "Distributed denial of service"),
        ("misconfiguration", "Misconfiguration"),
        ("sabotage", "Sabotage"),
        ("outage", "Outage"),
    ],
    ("information-content-security", "Information content security"): [
        ("unauthorised-information-access", "Unauthorised access to information"),
        ("unauthorised-information-modification", "Unauthorised modification of information"),
        ("data-loss", "Data loss"),
        ("data-leak", "Leak of confidential information"),
    ],
    ("fraud", "Fraud"): [
        ("unauthorised-use-of-resources", "Unauthorised use of resources"),
        ("copyright", "Copyright"),
        ("masquerade", "Masquerade"),
        ("phishing", "Phishing"),
    ],
    ("vulnerable", "Vulnerable"): [
        ("weak-crypto", "Weak cryptography"),
        ("ddos-amplifier", "DDoS amplifier"),
        ("potentially-unwanted-accessible", "Potentially unwanted accessible services"),
        ("information-disclosure", "Information disclosure"),
        ("vulnerable-system", "Vulnerable system"),
    ],
    ("other", "Other"): [("undetermined", "Undetermined")],
    ("test", "Test"): [("test-incident", "Test incident")],
}

LEVELS = ["low", "medium", "high", "critical"]
# domain.md: P1 is the worst.
P1 = {("critical", "critical"), ("critical", "high"), ("high", "critical")}
P2 = {("high", "high"), ("critical", "medium"), ("medium", "critical")}
P3 = {("high", "medium"), ("medium", "high"), ("medium", "medium"), ("critical", "low"), ("low", "critical")}


def _severity(impact: str, urgency: str) -> str:
    pair = (impact, urgency)
    return "P1" if pair in P1 else "P2" if pair in P2 else "P3" if pair in P3 else "P4"


def ship(apps, schema_editor):
    db = schema_editor.connection.alias  # the owner's connection migrate runs on, not the app's
    Category = apps.get_model("catalog", "Category")
    SeverityMatrix = apps.get_model("catalog", "SeverityMatrix")
    for (code, name), types in RSIT.items():
        top = Category.objects.using(db).create(code=code, name=name, tenant=None)
        for type_code, type_name in types:
            Category.objects.using(db).create(code=type_code, name=type_name, parent=top, tenant=None)
    SeverityMatrix.objects.using(db).create(
        tenant=None,
        impact_levels=LEVELS,
        urgency_levels=LEVELS,
        matrix={impact: {urgency: _severity(impact, urgency) for urgency in LEVELS} for impact in LEVELS},
        escalate_at="P1",
    )


def unship(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("catalog", "Category").objects.using(db).filter(tenant=None).delete()
    apps.get_model("catalog", "SeverityMatrix").objects.using(db).filter(tenant=None).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(ship, unship)]
