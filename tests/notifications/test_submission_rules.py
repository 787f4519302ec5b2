"""What a recorded submission must say (issue 13, defect 5): to whom it went, and the recipient's reference or
a summary. One rule in the service: the API answers 400 naming the fields, the page shows them on its form
(tests/web/test_close_and_submit.py)."""

import pytest

from apps.notifications.models import Obligation

AWARE = "2026-03-28T12:00:00+01:00"


@pytest.fixture
def gdpr_obligation(tenant, declare, patch_incident, obligations_of):
    tenant.settings = {"regimes": ["gdpr"]}
    tenant.save(update_fields=["settings"])
    incident = declare()
    patch_incident(incident["id"], personal_data_breach=True, aware_at=AWARE)
    return obligations_of(incident["id"])["GDPR-2"]


def _submit(client, obligation, **body):
    return client.post(f"/api/v1/obligations/{obligation['id']}/submit/", body, format="json")


def _pending(obligation) -> bool:
    return Obligation.unscoped.get(pk=obligation["id"]).status == "pending"


def test_an_empty_submission_is_refused_naming_the_fields(gdpr_obligation, api_client_for, handler):
    response = _submit(api_client_for(handler), gdpr_obligation)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"reference", "summary"}
    assert body["reference"] == ["Give the recipient's reference or a summary of what was sent."]
    assert _pending(gdpr_obligation)


def test_a_submission_needs_a_recipient_when_the_obligation_names_none(
    gdpr_obligation, api_client_for, handler
):
    Obligation.unscoped.filter(pk=gdpr_obligation["id"]).update(recipient="")
    response = _submit(api_client_for(handler), gdpr_obligation, recipient="  ", reference="CNIL-1")
    assert response.status_code == 400
    assert response.json() == {"recipient": ["Say to whom the notice was sent."]}
    assert _pending(gdpr_obligation)


@pytest.mark.parametrize(
    "body",
    [
        {"reference": "CNIL-2026-0042"},
        {"summary": "Notified the CNIL through its online form; 1,200 customers affected."},
    ],
)
def test_a_reference_or_a_summary_is_enough(gdpr_obligation, api_client_for, handler, body):
    response = _submit(api_client_for(handler), gdpr_obligation, **body)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "submitted"
    # Not named: the obligation's own recipient (the authority) is where it went.
    assert response.json()["submitted_to"] == gdpr_obligation["recipient"]


def test_the_named_recipient_is_recorded(gdpr_obligation, api_client_for, handler):
    response = _submit(api_client_for(handler), gdpr_obligation, recipient="CNIL, Paris", reference="X-1")
    assert response.status_code == 200, response.json()
    assert response.json()["submitted_to"] == "CNIL, Paris"
