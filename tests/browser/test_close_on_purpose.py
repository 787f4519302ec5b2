"""A manager closes an incident on purpose (issue 13, defects 6 and 7), in the browser: the close control
is shown disabled with its reason and a link to the fix, then asks what becomes of the open action; the
closed incident's page offers no write controls of its own."""

import pytest
from playwright.sync_api import expect

from apps.response.models import Incident, ResponseAction
from tests.factories import IncidentFactory, MembershipFactory, TenantFactory, UserFactory
from tests.two_factor import authenticator_for

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-horse-battery"


@pytest.fixture
def recovered():
    finance = TenantFactory(name="Finance", reference_prefix="FIN")
    maria = UserFactory(username="maria", first_name="Maria")
    MembershipFactory(user=maria, tenant=finance, role="manager")
    authenticator_for(maria)
    incident = IncidentFactory(tenant=finance, title="Payroll phishing", status="recovered", severity="P3")
    ResponseAction.unscoped.create(tenant=finance, incident=incident, title="Block the look-alike domain")
    return incident


def test_a_manager_fixes_the_blocker_and_decides_on_the_open_action(pages, recovered, shot):
    maria = pages.open_as("maria", PASSWORD)
    maria.goto(f"/incidents/{recovered.pk}/")
    blocked = maria.get_by_test_id("blocked-closed")
    expect(blocked.get_by_role("button", name="Move to Closed")).to_be_disabled()
    expect(blocked).to_contain_text("Closing needs the incident's root_cause summary.")
    shot(maria, "close-blocked")
    blocked.get_by_role("link", name="Fix it").click()
    maria.get_by_label("Root cause").fill("Look-alike domain missing from the block list")
    maria.get_by_role("button", name="Save changes").click()
    expect(maria.get_by_text("Incident updated.")).to_be_visible()
    maria.get_by_role("link", name="Overview").click()

    # (A refused decision comes back on the form with a 400: tests/web/test_close_and_submit.py.)
    close = maria.locator("form.transition").filter(has=maria.get_by_test_id("to-closed"))
    expect(close.get_by_label("Cancel them, with a reason")).to_be_visible()
    expect(close.get_by_label("Mark them done")).to_be_visible()
    close.get_by_label("Carry them over to the review's corrective actions").check()
    shot(maria, "close-decision")
    close.get_by_test_id("to-closed").click()
    expect(maria.get_by_test_id("incident-status")).to_have_text("Closed")
    expect(maria.get_by_test_id("closed-notice")).to_be_visible()
    expect(maria.get_by_role("button", name="Add", exact=True)).to_have_count(0)
    expect(maria.get_by_role("button", name="Add to timeline")).to_have_count(0)
    shot(maria, "closed-incident")
    assert Incident.unscoped.get(pk=recovered.pk).status == "closed"
    assert ResponseAction.unscoped.get(incident=recovered).status == "cancelled"
