"""The incident's admin page in a real browser: its fields and read-only tables render, in the department's
time zone, without a console error (screenshot 20-admin-incident in var/screenshots/)."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.two_factor import sign_in_verified

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_reads_an_incidents_admin_page(browser, live_server, shot, api_client_for, phishing):
    finance = TenantFactory(name="Finance", reference_prefix="FIN", settings={"regimes": ["gdpr"]})
    maria = UserFactory(username="maria")
    MembershipFactory(user=maria, tenant=finance, role="manager")
    api = api_client_for(maria)
    incident = {"tenant": str(finance.id), "title": "Customer database exposed", "category": str(phishing.id)}
    incident |= {"impact": "high", "urgency": "high"}
    declared = api.post("/api/v1/incidents/", incident, format="json")
    url = f"/api/v1/incidents/{declared.json()['id']}/"
    api.patch(url, {"personal_data_breach": True, "aware_at": "2026-12-01T09:00:00Z"}, format="json")
    api.post(f"{url}actions/", {"title": "Rotate the bucket keys", "assignee": str(maria.pk)}, format="json")
    # Signed in with the second factor passed (the sign-in pages have their own browser tests).
    session = sign_in_verified(Client(), maria).cookies[settings.SESSION_COOKIE_NAME].value
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda response: response.status >= 400 and errors.append(f"{response.status} {response.url}"),
    )

    page.goto(f"/admin/response/incident/{declared.json()['id']}/change/")

    expect(page.locator("#obligations-group")).to_contain_text("GDPR-2")
    expect(page.locator("#actions-group")).to_contain_text("Rotate the bucket keys")
    expect(page.locator("#timeline-group")).to_contain_text("Incident declared")
    expect(page.locator(".field-aware_at")).to_contain_text("1 Dec 2026, 10:00 CET")
    shot(page, "20-admin-incident")
    context.close()
    assert not errors, errors
