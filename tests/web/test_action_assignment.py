"""Response actions are assigned (and given a due date) on the incident page, through action_create and
action_update; only people who see the incident in full are offered, and another is refused on the form."""

from django.db import transaction
from django.urls import reverse

from apps.response.models import ResponseAction
from apps.response.services import incident_update
from apps.tenancy.access import access_for
from tests.factories import UserFactory


def test_a_new_action_is_created_assigned_with_its_due_date(world, client_for):
    incident, handler = world["incident"], world["users"]["handler"]
    client = client_for(handler)
    response = client.post(
        reverse("web:action-create", args=[incident.pk]),
        {"title": "Block the sender", "assignee": str(handler.pk), "due_at": "2030-01-02T10:00"},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    action = ResponseAction.unscoped.get(title="Block the sender")
    assert action.assignee == handler
    assert 'Block the sender <span class="muted">· ' + (handler.get_full_name() or handler.username) in page
    assert "due 2030-01-02 10:00" in page


def test_an_action_is_reassigned_and_its_due_date_changed(world, client_for):
    incident, action, manager = world["incident"], world["action"], world["users"]["manager"]
    client = client_for(world["users"]["handler"])
    prefix = f"a{action.pk.hex[:8]}"
    page = client.get(reverse("web:incident", args=[incident.pk])).content.decode()
    assert f'name="{prefix}-assignee"' in page
    assert f'<option value="{manager.pk}">' in page

    response = client.post(
        reverse("web:action-assign", args=[incident.pk, action.pk]),
        {f"{prefix}-assignee": str(manager.pk), f"{prefix}-due_at": "2030-03-04T09:30"},
    )

    assert response.status_code == 302
    action.refresh_from_db()
    assert action.assignee == manager
    page = client.get(reverse("web:incident", args=[incident.pk])).content.decode()
    assert "due 2030-03-04 09:30" in page
    assert f"Action updated: Reset passwords (assignee: — → {manager.username}, due date)" in page


def test_only_people_who_see_the_incident_are_offered(world, client_for, make_member, other_tenant):
    incident, action = world["incident"], world["action"]
    outsider = make_member("manager", other_tenant)
    reporter = world["users"]["reporter"]  # a member of the department who does not read incidents
    stranger = UserFactory()
    client = client_for(world["users"]["handler"])
    page = client.get(reverse("web:incident", args=[incident.pk])).content.decode()
    assert f'<option value="{world["users"]["manager"].pk}">' in page  # the choice is there, without them
    for person in (outsider, reporter, stranger):
        assert f'<option value="{person.pk}">' not in page

    prefix = f"a{action.pk.hex[:8]}"
    response = client.post(
        reverse("web:action-assign", args=[incident.pk, action.pk]), {f"{prefix}-assignee": str(reporter.pk)}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    action.refresh_from_db()
    assert action.assignee is None


def test_a_restricted_incident_offers_only_the_people_cleared_for_it(world, client_for, in_tenant):
    incident, manager, handler = world["incident"], world["users"]["manager"], world["users"]["handler"]
    with in_tenant(manager), transaction.atomic():
        incident_update(actor=manager, access=access_for(manager), incident=incident, restricted=True)
    page = client_for(manager).get(reverse("web:incident", args=[incident.pk])).content.decode()
    assert f'<option value="{manager.pk}">' in page
    assert f'<option value="{handler.pk}">' not in page  # a handler is not cleared for need-to-know
