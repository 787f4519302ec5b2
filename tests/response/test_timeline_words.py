"""One change, one timeline entry, in words: an update that moves the clocks is not told twice, and an
attachment joining from its report does not show the incident's id as a change."""

import pytest

from apps.response.timeline import entry_label

pytestmark = pytest.mark.django_db


def test_a_regimes_change_is_one_entry(declare, api_client_for, manager):
    incident = declare()
    client = api_client_for(manager)
    patched = client.patch(
        f"/api/v1/incidents/{incident['id']}/",
        {"regimes": ["gdpr"], "rationale": "Customer e-mail addresses were in the mailbox."},
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    timeline = client.get(f"/api/v1/incidents/{incident['id']}/timeline/").json()["results"]
    about_regimes = [entry["label"] for entry in timeline if "regimes" in entry["label"]]
    assert about_regimes == ["Incident updated (regimes)"]


def test_an_attachment_joining_from_its_report_reads_as_such():
    data = {"object": "mail.eml (sha256 1f2e…)", "changes": {"incident_id": [None, "6f1c"]}}
    assert (
        entry_label(verb="evidence.linked", data=data)
        == "Evidence joined from its report: mail.eml (sha256 1f2e…)"
    )
