"""The pages' writes, through the services: report (with attachment), assessment into an incident,
transitions, actions, timeline, evidence upload, recording a submission; and how service errors show."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.assessment.models import Assessment
from apps.evidence.models import CustodyEvent, Evidence
from apps.notifications.models import Obligation
from apps.reporting.models import Report
from apps.response.models import Incident, ResponseAction, TimelineEntry


def local_now() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def test_the_report_form_files_a_report_with_its_attachment(world, client_for):
    reporter = world["users"]["reporter"]
    client = client_for(reporter)
    response = client.post(
        "/report/",
        {
            "tenant": str(world["tenant"].pk),
            "title": "Phishing mail asking for my password",
            "description": "It came from a look-alike domain.",
            "occurred_at": local_now(),
            "kind": "event",
            "confidential": "on",
            "attachment": SimpleUploadedFile(
                "mail.eml", b"From: it@examp1e.org\n\nReset now", "message/rfc822"
            ),
        },
    )
    report = Report.unscoped.get(title="Phishing mail asking for my password")
    assert response.status_code == 302
    assert response["Location"] == f"/reports/{report.pk}/filed/"
    assert report.reporter == reporter
    assert report.confidential
    assert report.channel == "web"
    attachment = Evidence.unscoped.get(report=report)
    assert attachment.original_name == "mail.eml"
    assert attachment.size == 31
    assert attachment.detected_content_type == "message/rfc822"

    page = client.get(response["Location"]).content.decode()
    assert report.reference in page
    assert "mail.eml" in page
    assert report.reference in client.get("/reports/mine/").content.decode()


def test_report_form_errors_come_back_on_the_form(world, client_for):
    client = client_for(world["users"]["reporter"])
    response = client.post("/report/", {"title": "", "occurred_at": "2999-01-01T10:00", "kind": "event"})
    assert response.status_code == 200
    assert b"This field is required" in response.content
    # The service's own rule (no reports from the future) lands on its field.
    response = client.post(
        "/report/", {"title": "Future", "occurred_at": "2999-01-01T10:00", "kind": "event"}
    )
    assert response.status_code == 200
    assert b"Cannot be in the future" in response.content
    assert not Report.unscoped.filter(title="Future").exists()


def test_assessment_opens_an_incident(world, client_for, phishing):
    handler = client_for(world["users"]["handler"])
    report = world["report"]
    page = handler.get(reverse("web:assess", args=[report.pk])).content.decode()
    assert 'id="severity-matrix"' in page
    assert 'data-impact="high" data-urgency="high"' in page
    response = handler.post(
        reverse("web:assess", args=[report.pk]),
        {
            "decision": "incident",
            "category": str(phishing.pk),
            "impact": "high",
            "urgency": "medium",
            "rationale": "Credential phishing that reached several people.",
        },
    )
    assessment = Assessment.unscoped.get(report=report)
    assert assessment.incident_opened
    assert assessment.severity
    assert response.status_code == 302
    assert response["Location"] == f"/incidents/{assessment.incident_id}/"
    report.refresh_from_db()
    assert report.status == "triaged"
    page = handler.get(response["Location"]).content.decode()
    assert assessment.incident.reference in page
    assert "opened incident" in page


def test_assessment_errors_are_form_errors(world, client_for):
    handler = client_for(world["users"]["handler"])
    response = handler.post(
        reverse("web:assess", args=[world["report"].pk]), {"decision": "incident", "rationale": "yes"}
    )
    assert response.status_code == 200
    assert response.content.count(b"Required when the decision is incident.") == 3
    assert not Assessment.unscoped.exists()


def test_queue_filters_and_search(world, client_for):
    handler = client_for(world["users"]["handler"])
    reference = world["report"].reference
    assert reference in handler.get("/queue/").content.decode()
    assert reference in handler.get("/queue/", {"q": "cfo"}).content.decode()
    assert reference not in handler.get("/queue/", {"q": "nothing-like-it"}).content.decode()
    assert reference not in handler.get("/queue/", {"kind": "weakness"}).content.decode()
    assert reference not in handler.get("/queue/", {"status": "triaged"}).content.decode()


def test_transitions_are_posted_and_refused_ones_explained(world, client_for):
    incident = world["incident"]
    handler = client_for(world["users"]["handler"])
    url = reverse("web:incident-transition", args=[incident.pk])
    assert handler.post(url, {"to": "investigating"}).status_code == 302
    assert handler.post(url, {"to": "contained"}).status_code == 302
    incident.refresh_from_db()
    assert incident.status == "contained"
    # Not in the table from here: the Conflict comes back as a message.
    response = handler.post(url, {"to": "closed"}, follow=True)
    assert b"cannot move from contained to closed" in response.content
    # The role may not close: the 403 page.
    Incident.unscoped.filter(pk=incident.pk).update(status="recovered")
    assert handler.post(url, {"to": "closed"}).status_code == 403
    assert TimelineEntry.unscoped.filter(incident=incident, verb="incident.transitioned").count() == 2


def test_a_transition_needing_a_note_shows_the_error_on_its_form(world, client_for):
    incident = world["incident"]
    manager = client_for(world["users"]["manager"])
    url = reverse("web:incident-transition", args=[incident.pk])
    manager.post(url, {"to": "investigating"})
    response = manager.post(url, {"to": "closed", "note": ""}, follow=True)
    assert b"A rationale (`note`) is required" in response.content
    assert Incident.unscoped.get(pk=incident.pk).status == "investigating"


def test_actions_and_timeline_notes(world, client_for):
    incident = world["incident"]
    handler = client_for(world["users"]["handler"])
    assert (
        handler.post(reverse("web:action-create", args=[incident.pk]), {"title": "Block sender"}).status_code
        == 302
    )
    action = ResponseAction.unscoped.get(incident=incident, title="Block sender")
    handler.post(reverse("web:action-status", args=[incident.pk, action.pk]), {"status": "done"})
    action.refresh_from_db()
    assert action.status == "done"
    assert action.completed_at
    response = handler.post(reverse("web:action-create", args=[incident.pk]), {"title": ""})
    assert response.status_code == 400
    assert b"This field is required" in response.content
    handler.post(
        reverse("web:timeline-note", args=[incident.pk]), {"summary": "Sender domain registered yesterday"}
    )
    assert TimelineEntry.unscoped.filter(incident=incident, kind="observation").count() == 1


@pytest.mark.parametrize("as_json", [False, True])
def test_evidence_upload(world, client_for, as_json):
    incident = world["incident"]
    handler = client_for(world["users"]["handler"])
    headers = {"HTTP_ACCEPT": "application/json"} if as_json else {}
    response = handler.post(
        reverse("web:evidence-upload", args=[incident.pk]),
        {
            "file": SimpleUploadedFile("proxy.log", b"GET http://examp1e.org/login\n" * 1000),
            "source": "host",
            "source_detail": "proxy-01",
            "method": "log_export",
            "description": "Proxy log of the morning",
        },
        **headers,
    )
    if as_json:
        assert response.status_code == 200
        assert response.json() == {"redirect": f"/incidents/{incident.pk}/#evidence"}
    else:
        assert response.status_code == 302
    item = Evidence.unscoped.get(incident=incident, original_name="proxy.log")
    assert item.size == 29000
    assert item.source_detail == "proxy-01"
    assert CustodyEvent.unscoped.filter(evidence=item, action="collected").exists()
    custody = handler.get(reverse("web:custody", args=[incident.pk, item.pk])).content.decode()
    assert item.sha256 in custody
    assert "Collected" in custody


def test_evidence_upload_without_a_file_is_a_form_error(world, client_for):
    handler = client_for(world["users"]["handler"])
    url = reverse("web:evidence-upload", args=[world["incident"].pk])
    assert handler.post(url, {"source": "host", "method": "other"}).status_code == 400
    response = handler.post(url, {"source": "host", "method": "other"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert "file" in response.json()["errors"]


def test_uploads_still_need_the_csrf_token(world, client_for):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world["users"]["handler"])
    response = client.post(
        reverse("web:evidence-upload", args=[world["incident"].pk]),
        {"file": SimpleUploadedFile("x.log", b"x"), "source": "host", "method": "other"},
    )
    assert response.status_code == 403
    assert not Evidence.unscoped.filter(original_name="x.log").exists()


def test_recording_a_submission(world, client_for):
    obligation = world["obligation"]
    handler = client_for(world["users"]["handler"])
    prefix = f"o{obligation.pk.hex[:8]}"
    url = reverse("web:obligation-submit", args=[world["incident"].pk, obligation.pk])
    response = handler.post(
        url,
        {f"{prefix}-reference": "CNIL-2026-123", f"{prefix}-recipient": "CNIL", f"{prefix}-confirm": "on"},
    )
    assert response.status_code == 302
    obligation.refresh_from_db()
    assert obligation.status == "submitted"
    assert obligation.reference == "CNIL-2026-123"
    assert obligation.submitted_by == world["users"]["handler"]
    # Twice: the Conflict is a message, nothing changes.
    response = handler.post(url, {f"{prefix}-reference": "again", f"{prefix}-confirm": "on"}, follow=True)
    assert b"already submitted" in response.content
    assert Obligation.unscoped.get(pk=obligation.pk).reference == "CNIL-2026-123"


def test_a_submission_in_the_future_is_refused_on_its_form(world, client_for):
    obligation = world["obligation"]
    prefix = f"o{obligation.pk.hex[:8]}"
    response = client_for(world["users"]["handler"]).post(
        reverse("web:obligation-submit", args=[world["incident"].pk, obligation.pk]),
        {f"{prefix}-submitted_at": "2999-01-01T00:00", f"{prefix}-reference": "X", f"{prefix}-confirm": "on"},
    )
    assert response.status_code == 400
    assert b"cannot be in the future" in response.content
