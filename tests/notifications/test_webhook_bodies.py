"""What a webhook receiver gets (issue 13): one envelope whose `data` is one flat object describing the
event's object as the API shows it, ISO 8601 times, nothing internal, need-to-know incidents as their
summary; signed both as X-Vigil-Signature and as Standard Webhooks (verified with the `standardwebhooks`
library on the deliveries a real HTTP receiver accepted)."""

import base64
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from apps.evidence.models import Evidence
from apps.notifications import delivery, reminder_tasks
from apps.notifications.choices import OutboxChannel, OutboxStatus, WebhookEventType
from apps.notifications.models import Obligation, OutboxMessage
from apps.response.api.serializers import SUMMARY_FIELDS
from apps.response.models import Incident
from apps.response.services import incident_grant
from apps.tenancy.access import access_for
from apps.tenancy.context import activate
from tests.factories import UserFactory
from tests.notifications.receiver import WebhookReceiver

ENVELOPE = {"id", "type", "created_at", "tenant", "data"}
EVENT_KEYS = {"object", "actor", "changed"}
# Names that are Vigil's own business, never a receiver's.
INTERNAL = {"storage_key", "copy_storage_key", "secret", "nonce", "password", "reporter_visible"}


@pytest.fixture
def gdpr_tenant(tenant):
    tenant.settings = {"regimes": ["gdpr"]}
    tenant.save(update_fields=["settings"])
    return tenant


@pytest.fixture
def hooked(gdpr_tenant, make_member, api_client_for):
    """A webhook of every type, created through the API; its receiver checks both signatures with the
    secrets the creation showed."""
    receiver = WebhookReceiver(secret="").start()
    body = {"tenant": str(gdpr_tenant.pk), "url": receiver.url, "events": WebhookEventType.values}
    created = api_client_for(make_member("tenant_admin", gdpr_tenant)).post(
        "/api/v1/webhooks/", body, format="json"
    )
    assert created.status_code == 201, created.json()
    receiver.secret = created.json()["secret"]
    receiver.standard_secret = created.json()["standard_webhooks_secret"]
    yield receiver
    receiver.stop()


def deliver_everything() -> None:
    """Deliver every pending webhook message, as the worker's task does after commit."""
    pending = OutboxMessage.objects.filter(channel=OutboxChannel.WEBHOOK, status=OutboxStatus.PENDING)
    for message_id in pending.order_by("created_at").values_list("pk", flat=True):
        assert delivery.outbox_deliver(message_id=message_id).status == "delivered"


def bodies(receiver) -> dict[str, list[dict]]:
    """{type: [payload, …]} of the deliveries the receiver accepted; every one was authentic."""
    assert [r.reason for r in receiver.received if r.reason] == []
    found: dict[str, list[dict]] = {}
    for request in receiver.accepted:
        found.setdefault(request.json["type"], []).append(request.json)
    return found


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    return set()


def assert_well_formed(payload: dict) -> None:
    assert set(payload) == ENVELOPE
    assert datetime.fromisoformat(payload["created_at"]).utcoffset() is not None
    data = payload["data"]
    nested = {key: value for key, value in data.items() if isinstance(value, dict)}
    assert nested == {}, f"{payload['type']}: data is one flat object"
    assert not _keys(data) & INTERNAL, payload["type"]
    assert data["id"]
    assert data["object"]
    for key, value in data.items():
        if key.endswith("_at") and value is not None:
            assert datetime.fromisoformat(value).utcoffset() is not None, (payload["type"], key, value)


def _stored_path(evidence_id) -> Path:
    location = Path(settings.STORAGES["evidence"]["OPTIONS"]["location"])
    return location / Evidence.unscoped.get(pk=evidence_id).storage_key


def test_every_event_type_arrives_as_one_flat_iso_dated_object_verified_by_both_schemes(
    hooked, gdpr_tenant, declare, patch_incident, manager, make_member, api_client_for
):
    reporter, handler = make_member("reporter", gdpr_tenant), make_member("handler", gdpr_tenant)
    as_manager = api_client_for(manager)
    report = api_client_for(reporter).post(
        "/api/v1/reports/",
        {
            "tenant": str(gdpr_tenant.pk),
            "kind": "event",
            "title": "Laptop left on the train",
            "occurred_at": (timezone.now() - timedelta(hours=2)).isoformat(),
        },
        format="json",
    )
    assert report.status_code == 201, report.json()
    incident = declare(title="Customer list on a lost laptop")
    Incident.unscoped.filter(pk=incident["id"]).update(owner=manager)
    aware = (timezone.now() - timedelta(hours=73)).isoformat()  # GDPR-2 (72 h) is overdue
    patch_incident(incident["id"], personal_data_breach=True, aware_at=aware)
    moved = as_manager.post(f"/api/v1/incidents/{incident['id']}/transition/", {"to": "investigating"})
    assert moved.status_code == 200, moved.json()
    evidence = api_client_for(handler).post(
        "/api/v1/evidence/",
        {"file": SimpleUploadedFile("mdm.log", b"wiped at 10:02"), "incident": incident["id"]},
        format="multipart",
    )
    assert evidence.status_code == 201, evidence.json()
    _stored_path(evidence.json()["id"]).write_bytes(b"tampered")
    assert as_manager.post(f"/api/v1/evidence/{evidence.json()['id']}/verify/").json()["ok"] is False
    gdpr_2 = Obligation.unscoped.get(incident_id=incident["id"], step__code="GDPR-2")
    halfway = declare(title="Mail sent to the wrong customer")
    patch_incident(
        halfway["id"], personal_data_breach=True, aware_at=(timezone.now() - timedelta(hours=40)).isoformat()
    )
    halfway_gdpr_2 = Obligation.unscoped.get(incident_id=halfway["id"], step__code="GDPR-2")
    for obligation in (gdpr_2, halfway_gdpr_2):  # as the reminder scan fans out
        reminder_tasks.obligation_remind.apply(
            kwargs={"tenant_id": str(gdpr_tenant.pk), "pk": str(obligation.pk)}
        ).get()
    submitted = as_manager.post(f"/api/v1/obligations/{gdpr_2.pk}/submit/", {"reference": "DPA-1"})
    assert submitted.status_code == 200, submitted.json()
    texts = {"root_cause": "Unencrypted laptop", "lessons_learned": "Encrypt every disk"}
    review = as_manager.post("/api/v1/reviews/", {"incident": incident["id"], **texts}, format="json")
    assert review.status_code == 201, review.json()
    assert as_manager.post(f"/api/v1/reviews/{review.json()['id']}/complete/").status_code == 200

    deliver_everything()

    found = bodies(hooked)
    assert set(found) == set(WebhookEventType.values)
    for payload in (payload for payloads in found.values() for payload in payloads):
        assert_well_formed(payload)
        assert payload["tenant"] == str(gdpr_tenant.pk)
    [filed] = found["report.created"]
    assert filed["data"]["object"] == "report"
    assert filed["data"]["reference"] == report.json()["reference"]
    assert filed["data"]["actor"] == str(reporter.pk)
    declared = next(p for p in found["incident.declared"] if p["data"]["id"] == incident["id"])
    assert declared["data"]["title"] == "Customer list on a lost laptop"
    assert "allowed_transitions" not in declared["data"]
    updated = next(p["data"] for p in found["incident.updated"] if p["data"]["id"] == incident["id"])
    assert updated["personal_data_breach"] is True
    [transitioned] = found["incident.transitioned"]
    assert (transitioned["data"]["status"], transitioned["data"]["previous_status"]) == (
        "investigating",
        "declared",
    )
    assert transitioned["data"]["changed"] == ["status"]
    [added] = found["evidence.added"]
    assert (added["data"]["object"], added["data"]["original_name"]) == ("evidence", "mdm.log")
    assert added["data"]["incident"] == incident["id"]
    [failed] = found["evidence.integrity_failed"]
    assert failed["data"]["sha256_actual"] != failed["data"]["sha256"]
    opened = {p["data"]["step"] for p in found["obligation.created"]}
    assert "GDPR-2" in opened
    [overdue] = found["obligation.overdue"]
    assert (overdue["data"]["id"], overdue["data"]["reminder"], overdue["data"]["actor"]) == (
        str(gdpr_2.pk),
        "overdue",
        None,
    )
    [reminded] = found["obligation.due_soon"]
    assert (reminded["data"]["id"], reminded["data"]["reminder"]) == (str(halfway_gdpr_2.pk), "50%")
    [sent] = found["obligation.submitted"]
    assert (sent["data"]["status"], sent["data"]["reference"], sent["data"]["late"]) == (
        "submitted",
        "DPA-1",
        True,
    )
    [completed] = found["review.completed"]
    assert (completed["data"]["object"], completed["data"]["status"]) == ("review", "completed")
    assert completed["data"]["lessons_learned"] == "Encrypt every disk"


def test_a_need_to_know_incident_reaches_webhooks_as_its_summary(
    hooked, gdpr_tenant, declare, patch_incident, manager, make_member, api_client_for
):
    incident = declare(title="Board member under investigation", restricted=True, description="Names")
    patch_incident(incident["id"], personal_data_breach=True, aware_at=timezone.now().isoformat())
    upload = api_client_for(manager).post(
        "/api/v1/evidence/",
        {"file": SimpleUploadedFile("mail.eml", b"From: ..."), "incident": incident["id"]},
        format="multipart",
    )
    assert upload.status_code == 201, upload.json()

    deliver_everything()

    found = bodies(hooked)
    for kind in ("incident.declared", "incident.updated"):
        for payload in found[kind]:
            assert_well_formed(payload)
            assert set(payload["data"]) <= SUMMARY_FIELDS | EVENT_KEYS, kind
            assert payload["data"]["actor"] is None
            assert payload["data"]["title"] == "Board member under investigation"
    # What belongs to it is not part of its summary: not sent at all (issue 14), not even as ids.
    assert found.get("evidence.added", []) == []
    assert found.get("obligation.created", []) == []
    assert upload.json()["id"] not in str(found)
    assert "mail.eml" not in str(found)
    assert "Names" not in str(found)


def test_a_chosen_secret_is_shown_for_standard_webhooks_as_whsec_base64_of_its_bytes(
    db, make_member, api_client_for, tenant
):
    body = {
        "tenant": str(tenant.pk),
        "url": "https://hooks.example.org/vigil",
        "events": ["incident.declared"],
        "secret": "our own secret, 32 characters!!",
    }
    created = api_client_for(make_member("tenant_admin", tenant)).post(
        "/api/v1/webhooks/", body, format="json"
    )
    assert created.status_code == 201, created.json()
    expected = "whsec_" + base64.b64encode(b"our own secret, 32 characters!!").decode()
    assert created.json()["standard_webhooks_secret"] == expected


def test_a_confidential_reporters_attachment_reaches_webhooks_without_their_identity(
    hooked, gdpr_tenant, make_member, api_client_for
):
    whistleblower = make_member("reporter", gdpr_tenant, username="whistleblower")
    client = api_client_for(whistleblower)
    report = client.post(
        "/api/v1/reports/",
        {
            "tenant": str(gdpr_tenant.pk),
            "kind": "weakness",
            "title": "Shared admin password on a sticky note",
            "occurred_at": timezone.now().isoformat(),
            "confidential": True,
        },
        format="json",
    ).json()
    attached = client.post(
        "/api/v1/evidence/",
        {"file": SimpleUploadedFile("note.jpg", b"\xff\xd8 photo"), "report": report["id"]},
        format="multipart",
    )
    assert attached.status_code == 201, attached.json()

    deliver_everything()

    found = bodies(hooked)
    [filed], [added] = found["report.created"], found["evidence.added"]
    assert (filed["data"]["reporter"], filed["data"]["actor"]) == (None, None)
    assert (added["data"]["report"], added["data"]["original_name"]) == (report["id"], "note.jpg")
    assert [added["data"][key] for key in ("collected_by", "uploaded_by", "actor")] == [None, None, None]
    for payload in (filed, added):
        assert_well_formed(payload)
    received = b"".join(request.body for request in hooked.accepted).decode()
    assert str(whistleblower.pk) not in received
    assert "whistleblower" not in received


def test_what_a_granted_outsider_does_reaches_the_incidents_department(
    hooked, gdpr_tenant, declare, manager, api_client_for
):
    counsel = UserFactory(username="outside-counsel")  # no membership here: a need-to-know grant only
    incident = declare(title="Contract dispute")
    with transaction.atomic(), activate(access_for(manager)):
        incident_grant(
            actor=manager,
            access=access_for(manager),
            incident=Incident.unscoped.get(pk=incident["id"]),
            user=counsel,
            permission="change",
        )
    patched = api_client_for(counsel).patch(
        f"/api/v1/incidents/{incident['id']}/", {"description": "Letter of 2 December"}, format="json"
    )
    assert patched.status_code == 200, patched.json()

    deliver_everything()

    [updated] = bodies(hooked)["incident.updated"]
    assert_well_formed(updated)
    assert (updated["tenant"], updated["data"]["id"], updated["data"]["actor"]) == (
        str(gdpr_tenant.pk),
        incident["id"],
        str(counsel.pk),
    )
    assert updated["data"]["description"] == "Letter of 2 December"
    assert updated["data"]["changed"] == ["description"]
