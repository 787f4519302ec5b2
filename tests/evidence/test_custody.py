"""Downloads, the custody log and re-verification."""

import hashlib
import os

import pytest
from django.db import transaction
from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.evidence.files import evidence_storage
from apps.evidence.models import CustodyEvent, Evidence
from apps.response.models import TimelineEntry
from apps.response.services import incident_grant
from apps.tenancy.access import access_for
from apps.tenancy.context import activate
from apps.tenancy.roles import RoleId
from tests.factories import IncidentFactory, UserFactory, make_evidence

pytestmark = pytest.mark.django_db


def _stored_path(evidence) -> str:
    return evidence_storage().path(evidence.storage_key)


def flip_a_byte(evidence, offset: int = 3) -> None:
    with open(_stored_path(evidence), "r+b") as stored:  # the test plays the attacker, not the app
        stored.seek(offset)
        byte = stored.read(1)
        stored.seek(offset)
        stored.write(bytes([byte[0] ^ 0x01]))


def _download(client, evidence):
    response = client.get(reverse("evidence-download", kwargs={"pk": evidence.pk}))
    body = b"".join(response.streaming_content) if response.status_code == 200 else response.content
    return response, body


def test_download_is_an_attachment_and_leaves_a_custody_entry(handler, incident, api_client_for):
    item = make_evidence(incident, content=b"<html><script>alert(1)</script>", name="page.html")
    client = api_client_for(handler)

    for n in (1, 2):
        response, body = _download(client, item)
        assert response.status_code == 200
        assert body == b"<html><script>alert(1)</script>"
        assert response["Content-Type"] == "application/octet-stream"
        assert (
            response["Content-Disposition"]
            == "attachment; filename=\"page.html\"; filename*=UTF-8''page.html"
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        downloads = CustodyEvent.unscoped.filter(evidence=item, action="downloaded")
        assert downloads.count() == n, "every download is recorded by itself"
    assert downloads.first().actor == handler
    assert AuditEntry.unscoped.filter(verb="evidence.downloaded", target_id=str(item.pk)).count() == 2


def test_non_ascii_names_get_an_rfc6266_filename_star(handler, incident, api_client_for):
    item = make_evidence(incident, name="Überweisung €.pdf")
    response, _ = _download(api_client_for(handler), item)
    assert response["Content-Disposition"] == (
        "attachment; filename=\"_berweisung _.pdf\"; filename*=UTF-8''%C3%9Cberweisung%20%E2%82%AC.pdf"
    )


def test_a_granted_outsider_downloads_and_is_recorded(tenant, incident, make_member, api_client_for):
    manager = make_member(RoleId.MANAGER, tenant)
    outsider = UserFactory(username="counsel")
    item = make_evidence(incident)
    other = make_evidence(IncidentFactory(tenant=tenant))
    client = api_client_for(outsider)
    assert _download(client, item)[0].status_code == 404

    with transaction.atomic(), activate(access_for(manager)):
        incident_grant(
            actor=manager, access=access_for(manager), incident=incident, user=outsider, permission="view"
        )

    response, _body = _download(client, item)
    assert response.status_code == 200
    recorded = CustodyEvent.unscoped.get(evidence=item, action="downloaded")
    assert (recorded.actor, recorded.data) == (outsider, {"via_grant": True})
    assert [row["id"] for row in client.get(reverse("evidence-list")).json()["results"]] == [str(item.pk)]
    assert _download(client, other)[0].status_code == 404
    # A view grant reads; it does not verify, record custody or export.
    assert client.post(reverse("evidence-verify", kwargs={"pk": item.pk})).status_code == 403


def test_download_of_missing_bytes_is_409_not_500(handler, incident, api_client_for):
    item = make_evidence(incident)
    os.remove(_stored_path(item))
    response, _ = _download(api_client_for(handler), item)
    assert response.status_code == 409
    assert not CustodyEvent.unscoped.filter(evidence=item, action="downloaded").exists()


def test_custody_is_recorded_by_investigators_and_listed_oldest_first(
    investigator, handler, incident, api_client_for
):
    item = make_evidence(incident)
    url = reverse("evidence-custody-list", kwargs={"evidence_pk": item.pk})
    client = api_client_for(investigator)

    transfer = client.post(
        url,
        {
            "action": "transferred",
            "from_holder": "J. Doe (IT)",
            "to_holder": "Forensics Ltd",
            "purpose": "Disk analysis",
            "location": "Lab 2",
        },
        format="json",
    )
    sealed = client.post(url, {"action": "sealed", "to_holder": "Locker 7"}, format="json")

    assert transfer.status_code == sealed.status_code == 201, transfer.json()
    rows = client.get(url).json()["results"]
    assert [row["action"] for row in rows] == ["collected", "transferred", "sealed"]
    assert rows[1]["from_holder"] == "J. Doe (IT)"
    assert rows[1]["actor"] == str(investigator.pk)
    audit = AuditEntry.unscoped.get(verb="evidence.transferred", target_id=str(item.pk))
    assert audit.data["custody_event_id"] == transfer.json()["id"]
    assert TimelineEntry.unscoped.filter(incident=incident, verb="evidence.sealed").exists()

    assert api_client_for(handler).post(url, {"action": "sealed"}, format="json").status_code == 403


@pytest.mark.parametrize("action", ["downloaded", "verified", "exported", "collected", "accessed"])
def test_automatic_actions_cannot_be_posted(action, investigator, incident, api_client_for):
    item = make_evidence(incident)
    url = reverse("evidence-custody-list", kwargs={"evidence_pk": item.pk})
    response = api_client_for(investigator).post(url, {"action": action}, format="json")
    assert response.status_code == 400
    assert CustodyEvent.unscoped.filter(evidence=item).count() == 1


def test_a_transfer_names_both_holders(investigator, incident, api_client_for):
    item = make_evidence(incident)
    url = reverse("evidence-custody-list", kwargs={"evidence_pk": item.pk})
    response = api_client_for(investigator).post(
        url, {"action": "transferred", "to_holder": "X"}, format="json"
    )
    assert response.status_code == 400


def test_a_closed_incident_keeps_recording_custody(investigator, tenant, api_client_for):
    from django.utils import timezone

    from tests.factories import IncidentFactory

    item = make_evidence(IncidentFactory(tenant=tenant, status="closed", closed_at=timezone.now()))
    url = reverse("evidence-custody-list", kwargs={"evidence_pk": item.pk})
    assert (
        api_client_for(investigator).post(url, {"action": "released", "to_holder": "Owner"}).status_code
        == 201
    )


def test_verify_confirms_intact_bytes(investigator, incident, api_client_for):
    item = make_evidence(incident, content=b"intact")
    response = api_client_for(investigator).post(reverse("evidence-verify", kwargs={"pk": item.pk}))
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["sha256_expected"] == body["sha256_actual"] == hashlib.sha256(b"intact").hexdigest()
    assert body["verified_at"]
    verified = CustodyEvent.unscoped.get(evidence=item, action="verified")
    assert (verified.actor, verified.data["ok"]) == (investigator, True)
    assert Evidence.unscoped.get(pk=item.pk).last_verification_ok is True
    assert not AuditEntry.unscoped.filter(verb="evidence.integrity_failed").exists()


def test_verify_detects_a_flipped_byte(investigator, incident, api_client_for):
    item = make_evidence(incident, content=b"the original content of the log")
    flip_a_byte(item)

    body = api_client_for(investigator).post(reverse("evidence-verify", kwargs={"pk": item.pk})).json()

    assert body["ok"] is False
    assert body["sha256_actual"] != body["sha256_expected"] == item.sha256
    assert Evidence.unscoped.get(pk=item.pk).last_verification_ok is False
    failed = AuditEntry.unscoped.get(verb="evidence.integrity_failed", target_id=str(item.pk))
    assert failed.incident_id == incident.pk
    assert TimelineEntry.unscoped.filter(incident=incident, verb="evidence.integrity_failed").exists()


def test_verify_detects_a_missing_file(investigator, incident, api_client_for):
    item = make_evidence(incident)
    os.remove(_stored_path(item))
    body = api_client_for(investigator).post(reverse("evidence-verify", kwargs={"pk": item.pk})).json()
    assert (body["ok"], body["sha256_actual"]) == (False, None)
    assert AuditEntry.unscoped.filter(verb="evidence.integrity_failed", target_id=str(item.pk)).exists()


def test_handlers_may_not_verify(handler, incident, api_client_for):
    item = make_evidence(incident)
    assert api_client_for(handler).post(reverse("evidence-verify", kwargs={"pk": item.pk})).status_code == 403
