"""The incident page's close and submission controls (issue 13, defects 5, 6, 7): a submission is confirmed
and says to whom and what; a blocked move shows why and where it is fixed; a close with open actions asks
what becomes of them; a closed incident offers no write controls of its own."""

import pytest
from django.urls import reverse

from apps.notifications.models import Obligation
from apps.response.models import Incident, ResponseAction
from apps.reviews.models import CorrectiveAction, Review


def _page(client, incident) -> str:
    """The incident's page as `client` sees it: opened, so the absences asserted on it mean something."""
    response = client.get(reverse("web:incident", args=[incident.pk]))
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    assert incident.reference in page
    return page


# --- Recording a submission ----------------------------------------------------------------------------


@pytest.fixture
def submit(world, client_for):
    obligation = world["obligation"]
    prefix = f"o{obligation.pk.hex[:8]}"
    url = reverse("web:obligation-submit", args=[world["incident"].pk, obligation.pk])
    client = client_for(world["users"]["handler"])

    def post(**fields):
        return client.post(url, {f"{prefix}-{name}": value for name, value in fields.items()})

    return post


def test_the_submission_form_asks_for_confirmation_and_names_the_recipient(world, client_for):
    obligation = world["obligation"]
    page = _page(client_for(world["users"]["handler"]), world["incident"])
    prefix = f"o{obligation.pk.hex[:8]}"
    assert f'name="{prefix}-confirm"' in page
    assert f'id="id_{prefix}-confirm" required' in page or f'name="{prefix}-confirm" required' in page
    assert f'value="{obligation.recipient}"' in page


def test_an_empty_submission_is_refused_on_its_form(world, submit):
    response = submit()
    assert response.status_code == 400
    # Every problem at once: the confirmation and what the record must say.
    assert b"Tick to confirm that the notice was sent as stated." in response.content
    assert b"Give the recipient&#x27;s reference or a summary of what was sent." in response.content
    confirmed_but_empty = submit(confirm="on")
    assert confirmed_but_empty.status_code == 400
    assert (
        b"Give the recipient&#x27;s reference or a summary of what was sent." in confirmed_but_empty.content
    )
    assert Obligation.unscoped.get(pk=world["obligation"].pk).status == "pending"


def test_a_confirmed_submission_with_a_reference_is_recorded(world, submit):
    response = submit(recipient="CNIL", reference="CNIL-2026-123", confirm="on")
    assert response.status_code == 302
    obligation = Obligation.unscoped.get(pk=world["obligation"].pk)
    assert (obligation.status, obligation.submitted_to, obligation.reference) == (
        "submitted",
        "CNIL",
        "CNIL-2026-123",
    )


# --- Blocked moves, shown with their reason and fix ---------------------------------------------------


@pytest.fixture
def recovered(world):
    incident = world["incident"]
    Incident.unscoped.filter(pk=incident.pk).update(status="recovered", severity="P2", root_cause="")
    return incident


def test_a_close_without_a_root_cause_is_shown_disabled_with_a_link_to_the_field(
    recovered, world, client_for
):
    page = _page(client_for(world["users"]["manager"]), recovered)
    assert 'data-testid="to-closed"' not in page
    assert 'data-testid="blocked-closed"' in page
    assert "Closing needs the incident&#x27;s root_cause summary." in page
    manage = reverse("web:incident-manage", args=[recovered.pk])
    assert f'href="{manage}#id_root_cause" data-testid="fix-closed"' in page
    assert 'id="id_root_cause"' in client_for(world["users"]["manager"]).get(manage).content.decode()


def test_a_close_waiting_for_the_review_links_to_the_review(recovered, world, client_for):
    Incident.unscoped.filter(pk=recovered.pk).update(root_cause="Weak filter rules")
    page = _page(client_for(world["users"]["manager"]), recovered)
    assert "A P1/P2 incident closes only with a completed post-incident review." in page
    review = reverse("web:review", args=[recovered.pk])
    assert f'href="{review}" data-testid="fix-closed"' in page
    assert 'data-testid="to-closed"' not in page


def test_a_handler_sees_no_close_control_at_all(recovered, world, client_for):
    page = _page(client_for(world["users"]["handler"]), recovered)
    assert "blocked-closed" not in page
    assert 'data-testid="to-closed"' not in page


# --- Closing with open actions --------------------------------------------------------------------------


@pytest.fixture
def closable(recovered, world):
    Incident.unscoped.filter(pk=recovered.pk).update(root_cause="Weak filter rules")
    Review.unscoped.filter(pk=world["review"].pk).update(status="completed")
    return recovered


def test_the_close_control_offers_the_three_decisions(closable, world, client_for):
    page = _page(client_for(world["users"]["manager"]), closable)
    assert 'data-testid="to-closed"' in page
    for value in ("complete", "cancel", "carry_over"):
        assert f'name="open_actions" value="{value}"' in page


def test_closing_without_a_decision_comes_back_on_the_form(closable, world, client_for):
    url = reverse("web:incident-transition", args=[closable.pk])
    manager = client_for(world["users"]["manager"])
    response = manager.post(url, {"to": "closed"})
    assert response.status_code == 400
    assert b"1 response action(s) still open" in response.content
    no_reason = manager.post(url, {"to": "closed", "open_actions": "cancel"})
    assert no_reason.status_code == 400
    assert b"Say why the open actions are cancelled." in no_reason.content
    assert Incident.unscoped.get(pk=closable.pk).status == "recovered"


def test_closing_carries_the_open_action_over_to_the_review(closable, world, client_for):
    url = reverse("web:incident-transition", args=[closable.pk])
    response = client_for(world["users"]["manager"]).post(url, {"to": "closed", "open_actions": "carry_over"})
    assert response.status_code == 302
    assert Incident.unscoped.get(pk=closable.pk).status == "closed"
    assert ResponseAction.unscoped.get(pk=world["action"].pk).status == "cancelled"
    assert CorrectiveAction.unscoped.filter(review=world["review"], title="Reset passwords").exists()


# --- A closed incident's page ---------------------------------------------------------------------------


def test_a_closed_incident_offers_no_write_controls_of_its_own(world, client_for):
    incident = world["incident"]
    Incident.unscoped.filter(pk=incident.pk).update(status="closed", root_cause="Weak filter rules")
    handler = client_for(world["users"]["handler"])
    page = _page(handler, incident)
    assert 'data-testid="closed-notice"' in page
    assert reverse("web:action-create", args=[incident.pk]) not in page
    assert reverse("web:action-status", args=[incident.pk, world["action"].pk]) not in page
    assert reverse("web:timeline-note", args=[incident.pk]) not in page
    # What keeps recording: the obligations.
    assert reverse("web:obligation-submit", args=[incident.pk, world["obligation"].pk]) in page
    refused = handler.post(reverse("web:action-create", args=[incident.pk]), {"title": "Late"}, follow=True)
    assert b"This incident is closed" in refused.content
    assert not ResponseAction.unscoped.filter(title="Late").exists()
