"""The custody page records a transfer, a seal and a release through custody_record (as the API's POST
/api/v1/evidence/{id}/custody/ does): investigators and managers may, handlers are refused; errors come back
on the form."""

from html import unescape

import pytest
from django.urls import reverse

from apps.evidence.models import CustodyEvent


@pytest.fixture
def custody_url(world):
    return reverse("web:custody", args=[world["incident"].pk, world["evidence"].pk])


def test_an_investigator_records_a_transfer_a_seal_and_a_release(world, client_for, make_member, custody_url):
    investigator = make_member("investigator", world["tenant"])
    client = client_for(investigator)
    page = client.get(custody_url).content.decode()
    assert 'data-testid="custody-transferred"' in page
    # The current holder (who collected it) is offered as the one handing over.
    assert f'name="transferred-from_holder" value="{world["users"]["manager"].username}"' in page

    steps = [
        {
            "action": "transferred",
            "transferred-from_holder": "M. Manager",
            "transferred-to_holder": "Forensics lab",
            "transferred-purpose": "Imaging",
            "transferred-location": "Lab safe 2",
        },
        {"action": "sealed", "sealed-purpose": "Bag 0042", "sealed-location": "Lab safe 2"},
        {"action": "released", "released-to_holder": "Court clerk", "released-purpose": "Hearing"},
    ]
    for body in steps:
        response = client.post(custody_url, body)
        assert response.status_code == 302, unescape(response.content.decode())[:3000]

    page = unescape(client.get(custody_url).content.decode())
    for text in ("Transferred", "Forensics lab", "Imaging", "Sealed", "Bag 0042", "Released", "Court clerk"):
        assert text in page, text
    recorded = CustodyEvent.unscoped.filter(evidence=world["evidence"]).order_by("at", "recorded_at")
    assert [c.action for c in recorded][-3:] == ["transferred", "sealed", "released"]
    assert recorded.last().actor == investigator
    incident_page = client.get(reverse("web:incident", args=[world["incident"].pk])).content.decode()
    assert "Evidence transferred: auth.log" in unescape(incident_page)


def test_a_transfer_without_its_holders_comes_back_on_the_form(world, client_for, custody_url):
    client = client_for(world["users"]["manager"])
    response = client.post(
        custody_url, {"action": "transferred", "transferred-from_holder": "", "transferred-to_holder": ""}
    )
    assert response.status_code == 400
    assert "A transfer names who hands over and who receives." in unescape(response.content.decode())
    assert not CustodyEvent.unscoped.filter(evidence=world["evidence"], action="transferred").exists()


def test_an_unknown_action_is_refused(world, client_for, custody_url):
    response = client_for(world["users"]["manager"]).post(custody_url, {"action": "downloaded"})
    assert response.status_code == 400
    assert "Choose a transfer, seal, release or return." in unescape(response.content.decode())


def test_a_handler_sees_the_chain_but_may_not_record_custody(world, client_for, custody_url):
    client = client_for(world["users"]["handler"])
    page = client.get(custody_url).content.decode()
    assert "Chain of custody" in page
    assert 'data-testid="custody-sealed"' not in page
    response = client.post(custody_url, {"action": "sealed", "sealed-purpose": "Bag 1"})
    assert response.status_code == 403
    assert not CustodyEvent.unscoped.filter(evidence=world["evidence"], action="sealed").exists()
