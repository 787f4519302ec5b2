"""A confidential reporter's identity is redacted where it is recorded (issue 14, "Confidential reporters";
the rule: apps/core/identity.py).

A reporter with a unique username, name, e-mail, request address and User-Agent files a confidential
report with an attachment (over the API and over the web form), downloads it, and attaches a second file
once the report became an incident. Then nothing that handlers, investigators, auditors, executives and
platform administrators receive (the API, the incident's CSV export, the evidence package's files, the
pages, the admin site) holds any of those markers; neither does what the managers receive that is a
record (custody, audit extract, package) rather than the report itself. Rows recorded before the rule
(hash-chained, so never rewritten) are redacted where they are read, through the same rule."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.audit.models import AuditEntry
from apps.core.events import DomainEvent
from apps.core.origin import Origin
from apps.evidence.models import CustodyEvent, Evidence
from apps.reporting.models import Report
from apps.response.models import TimelineEntry
from apps.tenancy.services import token_create
from tests.two_factor import sign_in_verified

pytestmark = pytest.mark.django_db

IP = "203.0.113.77"
USER_AGENT = "ZqLeakAgent/9.9 (marker-ua-5519)"
OCCURRED = "2026-03-02T08:30:00+01:00"


@pytest.fixture
def investigator(make_member, tenant):
    return make_member("investigator", tenant)


@pytest.fixture
def whistle(make_member, tenant):
    return make_member(
        "reporter",
        tenant,
        username="zq-whistle-7731",
        first_name="Quillonia",
        last_name="Zebrowska",
        email="zq.whistle.7731@leak.example",
    )


def markers(person) -> dict[str, str]:
    return {
        "username": person.username,
        "id": str(person.pk),
        "id (hex)": person.pk.hex,
        "first name": person.first_name,
        "last name": person.last_name,
        "e-mail": person.email,
        "address": IP,
        "user agent": USER_AGENT,
    }


def leaks(text: str, person) -> list[str]:
    return [name for name, marker in markers(person).items() if marker in text]


def assert_clean(received: dict[str, str], person) -> None:
    found = {where: leaks(text, person) for where, text in received.items()}
    assert {where: names for where, names in found.items() if names} == {}


def _api(user, **extra) -> APIClient:
    with transaction.atomic():
        _, key = token_create(actor=user, user=user, name="reader")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}", **extra)
    return client


def _as_reporter(person) -> APIClient:
    """The reporter's own client: every request from its address and browser."""
    return _api(person, REMOTE_ADDR=IP, HTTP_USER_AGENT=USER_AGENT)


def _attach(client, report_id, name: str) -> dict:
    response = client.post(
        "/api/v1/evidence/",
        {"file": SimpleUploadedFile(name, b"From: it@examp1e.org\n\nReset now"), "report": report_id},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def _download(client, evidence_id) -> None:
    response = client.get(reverse("evidence-download", kwargs={"pk": evidence_id}))
    assert response.status_code == 200
    b"".join(response.streaming_content)


def _assess(handler, report_id, phishing) -> str:
    response = _api(handler).post(
        f"/api/v1/reports/{report_id}/assessment/",
        {
            "decision": "incident",
            "category": str(phishing.pk),
            "impact": "high",
            "urgency": "high",
            "rationale": "Credentials were entered on the fake page.",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["incident"]


@pytest.fixture
def filed_over_api(whistle, tenant, handler, phishing):
    """The reporter's acts over the API: report, attachment, its download, assessment into an incident
    (by a handler), a second attachment in the incident and its download. (report, incident) ids."""
    client = _as_reporter(whistle)
    body = {"tenant": str(tenant.pk), "kind": "event", "title": "Phishing", "occurred_at": OCCURRED}
    report = client.post("/api/v1/reports/", {**body, "confidential": True}, format="json")
    assert report.status_code == 201, report.json()
    report_id = report.json()["id"]
    _download(client, _attach(client, report_id, "mail.eml")["id"])
    incident_id = _assess(handler, report_id, phishing)
    _download(client, _attach(client, report_id, "later.eml")["id"])
    return report_id, incident_id


@pytest.fixture
def filed_over_the_web(whistle, tenant, handler, phishing):
    client = sign_in_verified(Client(), whistle)
    response = client.post(
        "/report/",
        {
            "tenant": str(tenant.pk),
            "title": "Phishing mail asking for my password",
            "occurred_at": "2026-03-02T08:30",
            "kind": "event",
            "confidential": "on",
            "attachment": SimpleUploadedFile("web.eml", b"From: it@examp1e.org\n\nReset", "message/rfc822"),
        },
        REMOTE_ADDR=IP,
        HTTP_USER_AGENT=USER_AGENT,
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    report = Report.unscoped.get(title="Phishing mail asking for my password")
    return str(report.pk), _assess(handler, report.pk, phishing)


def _text(response) -> str:
    assert response.status_code == 200, (response.status_code, response.content[:500])
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    headers = "\n".join(f"{name}: {value}" for name, value in response.items())
    return headers + "\n" + body.decode(errors="replace")


def _package_text(client, incident_id, tmp_path) -> str:
    """Every file of the incident's evidence package, after verify_package accepted it."""
    response = client.get(reverse("incident-evidence-package", kwargs={"incident_pk": incident_id}))
    assert response.status_code == 200, response.content
    data = b"".join(response.streaming_content)
    path = tmp_path / "package.zip"
    path.write_bytes(data)
    call_command(
        "verify_package", str(path), manifest_sha256=response["X-Manifest-SHA256"], stdout=io.StringIO()
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "\n".join(
            f"{name}:\n{archive.read(name).decode(errors='replace')}" for name in archive.namelist()
        )


def _api_received(user, report_id, incident_id) -> dict[str, str]:
    client = _api(user)
    evidence = Evidence.unscoped.filter(report_id=report_id).values_list("pk", flat=True)
    paths = [
        f"/api/v1/reports/{report_id}/",
        "/api/v1/reports/",
        f"/api/v1/incidents/{incident_id}/",
        f"/api/v1/incidents/{incident_id}/timeline/",
        "/api/v1/incidents/export/",
        "/api/v1/evidence/",
        "/api/v1/notifications/",
        f"/api/v1/audit/?incident={incident_id}",
        f"/api/v1/audit/?target_id={report_id}",
    ]
    for evidence_id in evidence:
        paths += [
            f"/api/v1/evidence/{evidence_id}/",
            f"/api/v1/evidence/{evidence_id}/custody/",
            f"/api/v1/audit/?target_id={evidence_id}",
        ]
    received = {}
    for path in paths:
        response = client.get(path)
        if response.status_code in (403, 404):
            continue  # not this role's (the audit trail, an executive's reports): nothing to leak
        received[f"API {path}"] = _text(response)
    return received


def _pages_received(user, report_id, incident_id) -> dict[str, str]:
    client = sign_in_verified(Client(), user)
    paths = [f"/incidents/{incident_id}/", f"/queue/{report_id}/", "/queue/", "/incidents/"]
    paths += [
        f"/incidents/{incident_id}/evidence/{evidence_id}/custody/"
        for evidence_id in Evidence.unscoped.filter(report_id=report_id).values_list("pk", flat=True)
    ]
    received = {}
    for path in paths:
        response = client.get(path)
        if response.status_code not in (403, 404):
            received[f"page {path}"] = _text(response)
    return received


def _admin_received(user, report_id) -> dict[str, str]:
    client = sign_in_verified(Client(), user)
    evidence = list(Evidence.unscoped.filter(report_id=report_id).values_list("pk", flat=True))
    custody = CustodyEvent.unscoped.filter(evidence_id__in=evidence).values_list("pk", flat=True)
    entries = AuditEntry.unscoped.filter(confidential=True).values_list("pk", flat=True)
    paths = [
        "/admin/audit/auditentry/?q=confidential",  # the rows of the reporter's acts
        "/admin/evidence/evidence/",
        "/admin/evidence/custodyevent/",
        f"/admin/reporting/report/{report_id}/change/",
        *(f"/admin/audit/auditentry/{pk}/change/" for pk in entries),
        *(f"/admin/evidence/evidence/{pk}/change/" for pk in evidence),
        *(f"/admin/evidence/custodyevent/{pk}/change/" for pk in custody),
    ]
    received = {}
    for path in paths:
        response = client.get(path)
        if response.status_code in (302, 403, 404):
            continue  # not this person's admin page (custody and audit need their scopes)
        received[f"admin {path}"] = _text(response)
    return received


READERS = ["handler", "investigator", "auditor", "executive", "superuser"]


@pytest.fixture
def reader(request, make_member, tenant, superuser):
    role = request.param
    return superuser if role == "superuser" else make_member(role, tenant)


def _everything(reader, report_id, incident_id) -> dict[str, str]:
    return {
        **_api_received(reader, report_id, incident_id),
        **_pages_received(reader, report_id, incident_id),
        **_admin_received(reader, report_id),
    }


@pytest.mark.parametrize("reader", READERS, indirect=True)
def test_what_others_receive_of_an_api_report_names_nobody(filed_over_api, whistle, reader):
    report_id, incident_id = filed_over_api
    received = _everything(reader, report_id, incident_id)
    assert len(received) >= 10
    assert_clean(received, whistle)


@pytest.mark.parametrize("reader", ["handler", "auditor", "superuser"], indirect=True)
def test_what_others_receive_of_a_web_report_names_nobody(filed_over_the_web, whistle, reader):
    report_id, incident_id = filed_over_the_web
    assert_clean(_everything(reader, report_id, incident_id), whistle)


def test_the_records_name_nobody_even_to_a_manager(filed_over_api, whistle, manager, tmp_path):
    """Managers know the reporter from the report itself; custody entries, the audit trail and the
    evidence package (handed to people who may not) name nobody, for them too."""
    report_id, incident_id = filed_over_api
    client = _api(manager)
    shown = client.get(f"/api/v1/reports/{report_id}/").json()
    assert shown["reporter"] == str(whistle.pk)
    received = {"package": _package_text(client, incident_id, tmp_path)}
    for evidence_id in Evidence.unscoped.filter(report_id=report_id).values_list("pk", flat=True):
        received[f"custody {evidence_id}"] = _text(client.get(f"/api/v1/evidence/{evidence_id}/custody/"))
    assert_clean(received, whistle)


def test_the_investigators_package_names_nobody(filed_over_api, whistle, investigator, tmp_path):
    _, incident_id = filed_over_api
    assert_clean({"package": _package_text(_api(investigator), incident_id, tmp_path)}, whistle)


def test_what_is_recorded_names_nobody(filed_over_api, whistle):
    """At the source: the stored rows themselves, not only what is shown of them."""
    report_id, _ = filed_over_api
    evidence = Evidence.unscoped.filter(report_id=report_id)
    custody = list(CustodyEvent.unscoped.filter(evidence__in=evidence).values())
    assert custody
    assert not [row for row in custody if row["actor_id"] == whistle.pk]
    confidential = list(AuditEntry.unscoped.filter(confidential=True).values())
    assert {row["verb"] for row in confidential} == {
        "report.created",
        "evidence.added",
        "evidence.downloaded",
    }
    assert_clean(
        {
            "custody rows": json.dumps(custody, default=str),
            "audit rows": json.dumps(confidential, default=str),
        },
        whistle,
    )
    # What a handler does on the attachment still names the handler (accountability).
    linked = AuditEntry.unscoped.get(verb="evidence.linked")
    assert not linked.confidential
    assert linked.actor_id is not None


# --------------------------------------------------------------------------------------------------
# Rows recorded before the rule: redacted where they are read
# --------------------------------------------------------------------------------------------------


def _legacy_rows(whistle, report_id) -> tuple[AuditEntry, CustodyEvent]:
    """An `evidence.downloaded` row and its custody entry as they were recorded before issue 14: the
    reporter's id in the custody entry and the audit data, its address and browser on the audit row."""
    from apps.audit.services import audit_record

    evidence = Evidence.unscoped.filter(report_id=report_id, incident__isnull=False).latest("uploaded_at")
    with transaction.atomic():
        custody = CustodyEvent.unscoped.create(
            tenant_id=evidence.tenant_id,
            evidence=evidence,
            action="downloaded",
            at=evidence.uploaded_at,
            actor=whistle,
            actor_repr="reporter (confidential)",
            to_holder="reporter (confidential)",
            purpose="Download",
        )
        event = DomainEvent(
            verb="evidence.downloaded",
            actor_id=None,
            actor_repr="confidential",
            tenant_id=evidence.tenant_id,
            target_type="evidence.evidence",
            target_id=str(evidence.pk),
            target_repr=str(evidence)[:255],
            incident_id=evidence.incident_id,
            changes={"uploaded_by_id": [None, str(whistle.pk)]},
            data={"custody_event_id": str(custody.pk), "action": "downloaded"},
            confidential=True,
            origin=Origin(channel="api", ip=IP, user_agent=USER_AGENT),
        )
        entry = audit_record(event=event)
        TimelineEntry.unscoped.create(
            tenant_id=evidence.tenant_id,
            incident_id=evidence.incident_id,
            at=evidence.uploaded_at,
            kind="automatic",
            verb="evidence.added",
            actor=None,
            actor_repr="confidential",
            summary="Evidence added",
            data={"changes": {"collected_by_id": [None, str(whistle.pk)]}, "name": evidence.original_name},
        )
    return entry, custody


def test_rows_recorded_before_the_rule_are_redacted_where_read(
    filed_over_api, whistle, auditor, superuser, investigator, manager, tmp_path
):
    report_id, incident_id = filed_over_api
    entry, custody = _legacy_rows(whistle, report_id)
    assert leaks(json.dumps([entry.ip, entry.user_agent, entry.changes]), whistle)  # as stored

    received = {
        "audit API": _text(_api(auditor).get(f"/api/v1/audit/{entry.pk}/")),
        "audit list": _text(_api(auditor).get(f"/api/v1/audit/?incident={incident_id}")),
        "custody API": _text(_api(auditor).get(f"/api/v1/evidence/{custody.evidence_id}/custody/")),
        "custody API, manager": _text(_api(manager).get(f"/api/v1/evidence/{custody.evidence_id}/custody/")),
        "package": _package_text(_api(investigator), incident_id, tmp_path),
        "timeline API": _text(_api(investigator).get(f"/api/v1/incidents/{incident_id}/timeline/")),
    }
    received.update(_admin_received(superuser, report_id))
    received.update(_admin_received(auditor, report_id))
    assert f"/admin/audit/auditentry/{entry.pk}/change/" in " ".join(received)
    assert_clean(received, whistle)
    # Still verifiable: the extract gives the row as a link and accounts for its custody entry.
    shown = _api(auditor).get(f"/api/v1/audit/{entry.pk}/").json()
    assert (shown["hash"], shown["actor_id"], shown["ip"]) == (entry.hash, None, None)


# --------------------------------------------------------------------------------------------------
# What leaves the building: webhook bodies at a real receiver, e-mails at a real SMTP server
# --------------------------------------------------------------------------------------------------


def test_webhooks_and_emails_name_nobody(
    whistle,
    tenant,
    handler,
    phishing,
    make_member,
    settings,
    unused_tcp_port,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from email import message_from_bytes

    from apps.notifications import delivery
    from apps.notifications.choices import OutboxChannel, OutboxStatus, WebhookEventType
    from apps.notifications.models import OutboxMessage
    from config.celery import app as celery_app
    from tests.notifications.receiver import WebhookReceiver
    from tests.notifications.test_smtp_delivery import smtp_server

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", unused_tcp_port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    make_member("executive", tenant, email="exec@example.org")  # told of the P1 incident by e-mail
    receiver = WebhookReceiver(secret="").start()
    try:
        hook = _api(make_member("tenant_admin", tenant)).post(
            "/api/v1/webhooks/",
            {"tenant": str(tenant.pk), "url": receiver.url, "events": WebhookEventType.values},
            format="json",
        )
        assert hook.status_code == 201, hook.json()
        receiver.secret = hook.json()["secret"]
        with smtp_server(unused_tcp_port) as sink, django_capture_on_commit_callbacks(execute=True):
            client = _as_reporter(whistle)
            body = {"tenant": str(tenant.pk), "kind": "event", "title": "Phishing", "occurred_at": OCCURRED}
            report_id = client.post("/api/v1/reports/", {**body, "confidential": True}, format="json").json()[
                "id"
            ]
            _download(client, _attach(client, report_id, "mail.eml")["id"])
            response = _api(handler).post(
                f"/api/v1/reports/{report_id}/assessment/",
                {
                    "decision": "incident",
                    "category": str(phishing.pk),
                    "impact": "critical",
                    "urgency": "critical",
                    "rationale": "Credentials were entered on the fake page.",
                },
                format="json",
            )
            assert response.status_code == 201, response.json()
            _download(client, _attach(client, report_id, "later.eml")["id"])
            pending = OutboxMessage.objects.filter(channel=OutboxChannel.WEBHOOK, status=OutboxStatus.PENDING)
            for message_id in pending.order_by("created_at").values_list("pk", flat=True):
                delivery.outbox_deliver(message_id=message_id)
        assert [r.reason for r in receiver.received if r.reason] == []
        types = {request.json["type"] for request in receiver.accepted}
        assert {"report.created", "evidence.added"} <= types
        mails = [message_from_bytes(envelope.content).as_string() for envelope in sink.received]
        assert mails, "the P1 incident's e-mail arrived"
        received = {f"webhook {r.json['type']} {n}": r.body.decode() for n, r in enumerate(receiver.accepted)}
        received.update({f"e-mail {n}": text for n, text in enumerate(mails)})
        assert_clean(received, whistle)
    finally:
        receiver.stop()


def test_a_short_username_does_not_rewrite_hashes_or_ids(
    make_member, tenant, handler, phishing, investigator, tmp_path
):
    """The redaction replaces the person's id, username and e-mail as whole words: a reporter named "a"
    leaves the hex of hashes and ids in what is recorded intact, and the package still verifies."""
    short = make_member("reporter", tenant, username="a")
    client = _api(short)
    body = {"tenant": str(tenant.pk), "kind": "event", "title": "Phishing", "occurred_at": OCCURRED}
    report_id = client.post("/api/v1/reports/", {**body, "confidential": True}, format="json").json()["id"]
    _attach(client, report_id, "first.eml")
    incident_id = _assess(handler, report_id, phishing)
    later = _attach(client, report_id, "later.eml")
    added = AuditEntry.unscoped.get(verb="evidence.added", target_id=later["id"])
    custody = CustodyEvent.unscoped.get(evidence_id=later["id"], action="collected")
    assert (added.data["sha256"], added.data["custody_event_id"]) == (later["sha256"], str(custody.pk))
    assert added.changes["collected_by_id"] == [None, "confidential"]
    _package_text(_api(investigator), incident_id, tmp_path)  # verify_package accepts it


def test_what_a_handler_does_on_the_attachment_still_names_the_handler(filed_over_api, handler, auditor):
    """Only the confidential reporter's own entries are anonymous: a handler's download of the attachment
    is on its custody log under the handler's name, for an auditor too (accountability)."""
    report_id, _ = filed_over_api
    evidence_id = Evidence.unscoped.filter(report_id=report_id).earliest("uploaded_at").pk
    _download(_api(handler), evidence_id)
    custody = _api(auditor).get(f"/api/v1/evidence/{evidence_id}/custody/").json()["results"]
    by = [(entry["action"], entry["actor"], entry["actor_repr"]) for entry in custody]
    assert by == [
        ("collected", None, "confidential"),
        ("downloaded", None, "confidential"),
        ("linked", str(handler.pk), handler.username),
        ("downloaded", str(handler.pk), handler.username),
    ]


def test_the_custody_page_names_the_handler_and_not_the_reporter(filed_over_api, whistle, handler):
    """The web custody log shows each entry's actor as the API does (one rule: apps.core.identity):
    the handler's download under the handler's name, the reporter's own entries as the pseudonym."""
    report_id, incident_id = filed_over_api
    evidence_id = Evidence.unscoped.filter(report_id=report_id).earliest("uploaded_at").pk
    _download(_api(handler), evidence_id)
    page = sign_in_verified(Client(), handler).get(
        f"/incidents/{incident_id}/evidence/{evidence_id}/custody/"
    )
    assert page.status_code == 200
    rows = [row for row in _text(page).split("<tr>") if "badge" in row]
    by = [row.rsplit("<td>", 1)[-1].split("</td>")[0].strip() for row in rows]
    assert by == ["confidential", "confidential", handler.username, handler.username]
    assert not leaks(_text(page), whistle)
