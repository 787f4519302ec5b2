"""A reporter's attachment follows its report into the incident the report is assessed into (issue 13,
defect 3): the same item (bytes, hash, custody log) becomes the incident's evidence and goes into its
package; a `linked` custody entry and `evidence.linked` record the move, by the assessor."""

import hashlib
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.evidence.models import Evidence
from tests.assessment.helpers import failing_subscriber, record_incident_assessment
from tests.evidence.conftest import MAIL
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def decide(api_client_for, handler, phishing):
    def post(report_id, **overrides):
        body = {
            "decision": "incident",
            "category": str(phishing.pk),
            "impact": "high",
            "urgency": "high",
            "rationale": "Credentials were entered on the fake page.",
            **overrides,
        }
        body = {name: value for name, value in body.items() if value is not ...}  # `name=...`: left out
        response = api_client_for(handler).post(
            f"/api/v1/reports/{report_id}/assessment/", body, format="json"
        )
        assert response.status_code == 201, response.json()
        return response.json()

    return post


def _custody(client, evidence_id) -> list[dict]:
    response = client.get(reverse("evidence-custody-list", kwargs={"evidence_pk": evidence_id}))
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def _package(client, incident_id, tmp_path) -> tuple[zipfile.ZipFile, dict]:
    """The incident's package, checked as a recipient would: `verify_package` with the header's manifest
    hash, and each file's SHA-256 against the manifest (what `sha256sum -c` does)."""
    response = client.get(reverse("incident-evidence-package", kwargs={"incident_pk": incident_id}))
    assert response.status_code == 200, response.content
    data = b"".join(response.streaming_content)
    path = tmp_path / "package.zip"
    path.write_bytes(data)
    out = io.StringIO()
    call_command("verify_package", str(path), manifest_sha256=response["X-Manifest-SHA256"], stdout=out)
    assert out.getvalue().startswith("OK:")
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(archive.read("manifest.json"))
    for row in manifest["files"]:
        assert hashlib.sha256(archive.read(row["path"])).hexdigest() == row["sha256"]
    return archive, manifest


def _assert_in_incident(
    evidence, incident_id, *, handler, investigator, api_client_for, tmp_path, decision="incident"
):
    client = api_client_for(handler)
    item = client.get(reverse("evidence-detail", kwargs={"pk": evidence["id"]})).json()
    assert (item["incident"], item["report"]) == (incident_id, evidence["report"])
    assert (item["sha256"], item["size"]) == (hashlib.sha256(MAIL).hexdigest(), len(MAIL))
    listed = client.get(reverse("evidence-list"), {"incident": incident_id}).json()["results"]
    assert evidence["id"] in [row["id"] for row in listed]

    custody = _custody(client, evidence["id"])
    assert [entry["action"] for entry in custody] == ["collected", "linked"]
    linked = custody[1]
    assert linked["actor"] == str(handler.pk)
    assert linked["to_holder"].startswith("Incident ")
    assert (linked["data"]["incident"], linked["data"]["decision"]) == (incident_id, decision)
    audited = AuditEntry.unscoped.get(verb="evidence.linked", target_id=evidence["id"])
    assert str(audited.incident_id) == incident_id

    archive, manifest = _package(api_client_for(investigator), incident_id, tmp_path)
    row = next(row for row in manifest["files"] if row["id"] == evidence["id"])
    assert archive.read(row["path"]) == MAIL
    assert [entry["action"] for entry in row["custody"]] == ["collected", "linked"]
    return row


def test_an_attachment_follows_its_report_into_the_incident_it_opens(
    attached, decide, handler, investigator, api_client_for, tmp_path
):
    report, evidence = attached()
    assert evidence["incident"] is None
    decision = decide(report["id"])
    assert decision["incident_opened"] is True
    _assert_in_incident(
        evidence,
        decision["incident"],
        handler=handler,
        investigator=investigator,
        api_client_for=api_client_for,
        tmp_path=tmp_path,
    )
    page = api_client_for(handler).get(f"/api/v1/incidents/{decision['incident']}/timeline/")
    assert "evidence.linked" in [entry["verb"] for entry in page.json()["results"]]


def test_an_attachment_follows_its_report_into_an_existing_incident(
    attached, decide, handler, investigator, api_client_for, tenant, tmp_path
):
    existing = IncidentFactory(tenant=tenant, title="Phishing wave")
    report, evidence = attached()
    decision = decide(report["id"], incident=str(existing.pk))
    assert (decision["incident"], decision["incident_opened"]) == (str(existing.pk), False)
    _assert_in_incident(
        evidence,
        str(existing.pk),
        handler=handler,
        investigator=investigator,
        api_client_for=api_client_for,
        tmp_path=tmp_path,
    )


def test_a_duplicates_attachment_joins_its_originals_incident(
    attached, decide, handler, investigator, api_client_for, tmp_path
):
    original, _ = attached()
    incident_id = decide(original["id"])["incident"]
    duplicate, evidence = attached(title="The same e-mail again")
    decision = decide(
        duplicate["id"],
        decision="duplicate",
        duplicate_of=original["id"],
        category=...,
        impact=...,
        urgency=...,
    )
    assert decision["incident"] == incident_id
    _assert_in_incident(
        evidence,
        incident_id,
        handler=handler,
        investigator=investigator,
        api_client_for=api_client_for,
        tmp_path=tmp_path,
        decision="duplicate",
    )


def test_an_attachment_added_after_the_assessment_is_the_incidents_from_the_start(
    attached,
    decide,
    reporter,
    api_client_for,
    upload,
):
    report, _ = attached()
    incident_id = decide(report["id"])["incident"]
    later = upload(api_client_for(reporter), b"a second screenshot", name="later.png", report=report["id"])
    assert later.status_code == 201, later.json()
    assert later.json()["incident"] == incident_id
    assert [entry["action"] for entry in _custody(api_client_for(reporter), later.json()["id"])] == [
        "collected"
    ]


def test_an_attachment_stays_in_the_incident_it_joined(attached, decide, handler, api_client_for, tenant):
    """Re-assessing the report (not an incident, or another incident) never takes an item out of the
    incident whose record and package it became part of; its custody log is not rewritten."""
    report, evidence = attached()
    first = decide(report["id"])["incident"]
    decide(report["id"], decision="not_incident", category=..., impact=..., urgency=...)
    decide(report["id"], incident=str(IncidentFactory(tenant=tenant).pk))
    item = api_client_for(handler).get(reverse("evidence-detail", kwargs={"pk": evidence["id"]})).json()
    assert item["incident"] == first
    assert [entry["action"] for entry in _custody(api_client_for(handler), evidence["id"])] == [
        "collected",
        "linked",
    ]


def test_an_assessment_that_fails_later_leaves_the_attachment_where_it_was(
    attached, handler, phishing, in_tenant, api_client_for
):
    """The move is part of the assessment's transaction: a failure after it undoes it too."""
    report, evidence = attached()
    with (
        failing_subscriber("report.triaged"),
        in_tenant(handler),
        pytest.raises(RuntimeError, match="subscriber failed"),
    ):
        record_incident_assessment(handler, report["id"], phishing)
    assert Evidence.unscoped.get(pk=evidence["id"]).incident_id is None
    assert [entry["action"] for entry in _custody(api_client_for(handler), evidence["id"])] == ["collected"]
    assert not AuditEntry.unscoped.filter(verb="evidence.linked").exists()


def test_a_confidential_reporter_stays_hidden_in_the_incident(
    make_member, tenant, api_client_for, upload, decide, handler, investigator, tmp_path, verified_client_for
):
    whistle = make_member("reporter", tenant, username="whistle-blower")
    client = api_client_for(whistle)
    report = client.post(
        "/api/v1/reports/",
        {
            "tenant": str(tenant.pk),
            "kind": "weakness",
            "title": "Shared admin password",
            "occurred_at": "2026-03-02T08:30:00+01:00",
            "confidential": True,
        },
        format="json",
    ).json()
    evidence = upload(client, MAIL, name="mail.eml", report=report["id"]).json()
    client.get(reverse("evidence-download", kwargs={"pk": evidence["id"]}))  # the reporter's own download
    incident_id = decide(report["id"])["incident"]

    custody = api_client_for(handler).get(
        reverse("evidence-custody-list", kwargs={"evidence_pk": evidence["id"]})
    )
    assert [entry["action"] for entry in custody.json()["results"]] == ["collected", "downloaded", "linked"]
    assert "whistle-blower" not in custody.content.decode()
    _, manifest = _package(api_client_for(investigator), incident_id, tmp_path)
    assert "whistle-blower" not in json.dumps(manifest)
    row = next(row for row in manifest["files"] if row["id"] == evidence["id"])
    assert (row["collected_by"], row["uploaded_by"]) == ("confidential", "confidential")
    page = verified_client_for(handler).get(reverse("web:incident", kwargs={"incident_id": incident_id}))
    assert "mail.eml" in page.content.decode()
    assert "whistle-blower" not in page.content.decode()
    custody_page = verified_client_for(handler).get(
        reverse("web:custody", kwargs={"incident_id": incident_id, "evidence_id": evidence["id"]})
    )
    assert custody_page.status_code == 200
    assert "whistle-blower" not in custody_page.content.decode()
    linked = AuditEntry.unscoped.get(verb="evidence.linked", target_id=evidence["id"])
    assert "whistle-blower" not in json.dumps([linked.actor_repr, linked.changes, linked.data])


def _refused(sql: str, params: dict) -> None:
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_lets_an_attachment_join_an_incident_once_and_nothing_more(tenant, reporter):
    from apps.reporting.models import Report
    from tests.factories import make_evidence

    now = "2026-03-02T08:30:00+01:00"
    report = Report.unscoped.create(
        tenant=tenant,
        reference="FIN-R-1",
        kind="event",
        title="Phishing",
        occurred_at=now,
        reporter=reporter,
        channel="web",
        received_at=now,
    )
    params = {
        "incident": IncidentFactory(tenant=tenant).pk,
        "other": IncidentFactory(tenant=tenant).pk,
        "attachment": make_evidence(report=report, content=b"attached").pk,
        "collected": make_evidence(IncidentFactory(tenant=tenant), content=b"collected").pk,
    }
    join = "UPDATE evidence_evidence SET incident_id = %(incident)s"
    _refused(f"{join} WHERE id = %(collected)s", params)  # an incident's own item never moves
    _refused(f"{join}, description = 'x' WHERE id = %(attachment)s", params)  # nor does anything else
    with connection.cursor() as cursor:
        cursor.execute(f"{join} WHERE id = %(attachment)s", params)
    assert Evidence.unscoped.get(pk=params["attachment"]).incident_id == params["incident"]
    _refused("UPDATE evidence_evidence SET incident_id = %(other)s WHERE id = %(attachment)s", params)
    _refused("UPDATE evidence_evidence SET incident_id = NULL WHERE id = %(attachment)s", params)


@pytest.mark.django_db(transaction=True)
def test_a_file_attached_while_the_report_is_assessed_lands_in_the_incident(
    tenant, reporter, handler, phishing
):
    """The upload waits for the assessment holding the report (both lock it): it is not left beside the
    incident the report went into a moment before."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from apps.assessment.services import assessment_record
    from apps.core import events
    from apps.evidence.services import evidence_add
    from apps.reporting.models import Report
    from apps.reporting.services import report_create
    from apps.tenancy.access import access_for
    from apps.tenancy.context import activate

    with activate(access_for(reporter)), transaction.atomic():
        report = report_create(
            actor=reporter,
            access=access_for(reporter),
            tenant=tenant,
            kind="event",
            title="Phishing",
            occurred_at=timezone.now(),
        )
    moved, go = threading.Event(), threading.Event()

    def hold(event):  # the attachments have moved; the assessment has not committed yet
        moved.set()
        go.wait(10)

    def in_own_transaction(user, write):
        try:
            with activate(access_for(user)), transaction.atomic():
                return write(access_for(user), Report.unscoped.get(pk=report.pk))
        finally:
            connection.close()

    def assess(access, report):
        return assessment_record(
            actor=handler,
            access=access,
            report=report,
            decision="incident",
            rationale="Credentials were entered",
            category=phishing,
            impact="high",
            urgency="high",
        )

    def attach(access, report):
        return evidence_add(
            actor=reporter, access=access, report=report, file=ContentFile(b"late", name="late.txt")
        )

    events.subscribe("report.triaged")(hold)
    try:
        with ThreadPoolExecutor(2) as pool:
            assessing = pool.submit(in_own_transaction, handler, assess)
            assert moved.wait(20)
            attaching = pool.submit(in_own_transaction, reporter, attach)
            time.sleep(1)  # without waiting for the report, the upload commits in this second
            go.set()
            assessment, evidence = assessing.result(30), attaching.result(30)
    finally:
        events._subscribers.remove(("report.triaged", hold))
    assert Evidence.unscoped.get(pk=evidence.pk).incident_id == assessment.incident_id
