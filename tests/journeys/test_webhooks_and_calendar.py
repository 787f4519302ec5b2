"""What an integrator's receiver and a person's calendar get from a running Vigil: webhook deliveries
made by the worker, verified with the `standardwebhooks` library and Vigil's own HMAC scheme; the
personal iCalendar feed fetched from its secret link and read with `icalendar`."""

from datetime import datetime, timedelta

import icalendar
import pytest
from django.utils import timezone

from apps.catalog.models import Category
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

INTERNAL = {"storage_key", "copy_storage_key", "secret", "password"}


@pytest.fixture
def finance():
    tenant = TenantFactory(name="Finance", reference_prefix="FIN", settings={"regimes": ["gdpr"]})
    people = {}
    for role in ("manager", "tenant_admin", "handler"):
        people[role] = UserFactory(username=f"fin-{role}")
        MembershipFactory(user=people[role], tenant=tenant, role=role)
    return tenant, people


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def _declare(vigil, token, tenant, **fields) -> dict:
    category = Category.unscoped.get(code="phishing", tenant=None)
    body = {
        "tenant": str(tenant.pk),
        "title": "Customer database exposed",
        "category": str(category.pk),
        "impact": "high",
        "urgency": "high",
    }
    response = vigil.post("/api/v1/incidents/", token=token, json=body)
    assert response.status_code == 201, response.text
    flagged = vigil.patch(
        f"/api/v1/incidents/{response.json()['id']}/",
        token=token,
        json={"personal_data_breach": True, **fields},
    )
    assert flagged.status_code == 200, flagged.text
    return flagged.json()


def test_webhook_deliveries_verify_with_standard_webhooks_and_carry_one_flat_envelope(
    vigil, finance, webhook_receiver
):
    tenant, people = finance
    admin = vigil.token(people["tenant_admin"])
    created = vigil.post(
        "/api/v1/webhooks/",
        token=admin,
        json={
            "tenant": str(tenant.pk),
            "url": webhook_receiver.url,
            "events": ["incident.declared", "incident.transitioned", "evidence.added", "obligation.created"],
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["active"] is True
    webhook_receiver.secret = created.json()["secret"]
    webhook_receiver.standard_secret = created.json()["standard_webhooks_secret"]

    manager = vigil.token(people["manager"])
    incident = _declare(vigil, manager, tenant)
    moved = vigil.post(
        f"/api/v1/incidents/{incident['id']}/transition/", token=manager, json={"to": "investigating"}
    )
    assert moved.status_code == 200, moved.text
    uploaded = vigil.post(
        "/api/v1/evidence/",
        token=manager,
        data={"incident": incident["id"], "description": "server log"},
        files={"file": ("auth.log", b"Dec  4 02:00:01 sshd[1]: Accepted password\n", "text/plain")},
    )
    assert uploaded.status_code == 201, uploaded.text

    wanted = {"incident.declared", "incident.transitioned", "evidence.added", "obligation.created"}
    wait_for(lambda: wanted <= {r.json["type"] for r in webhook_receiver.accepted}, timeout=90)

    rejected = [r.reason for r in webhook_receiver.received if r.status == 401]
    assert rejected == [], rejected  # every delivery verified: X-Vigil-Signature and Standard Webhooks
    for received in webhook_receiver.accepted:
        envelope = received.json
        assert set(envelope) == {"id", "type", "created_at", "tenant", "data"}
        headers = {name.lower(): value for name, value in received.headers.items()}
        assert headers["webhook-id"] == envelope["id"] == headers["x-vigil-delivery"]
        assert datetime.fromisoformat(envelope["created_at"]).tzinfo is not None
        assert envelope["tenant"] == str(tenant.pk)
        assert "data" not in envelope["data"], "one envelope, no data.data"
        assert not _keys(envelope) & INTERNAL, envelope
    by_type = {r.json["type"]: r.json["data"] for r in webhook_receiver.accepted}
    assert (by_type["incident.declared"]["object"], by_type["incident.declared"]["id"]) == (
        "incident",
        incident["id"],
    )
    assert by_type["incident.transitioned"]["status"] == "investigating"
    assert by_type["evidence.added"]["sha256"] == uploaded.json()["sha256"]


def test_the_calendar_feed_holds_each_deadline_with_a_link_a_reminder_and_words(vigil, finance):
    tenant, people = finance
    manager = vigil.token(people["manager"])
    incident = _declare(vigil, manager, tenant, aware_at=(timezone.now() - timedelta(hours=1)).isoformat())
    obligations = vigil.get("/api/v1/obligations/", token=manager, params={"incident": incident["id"]})
    assert obligations.status_code == 200
    assert obligations.json()["results"], "a personal-data breach under GDPR opens obligations"

    feed_link = vigil.get("/api/v1/calendar/", token=manager)
    assert feed_link.status_code == 200, feed_link.text
    url = next(v for v in feed_link.json().values() if isinstance(v, str) and v.startswith("http"))
    feed = vigil.session.get(url, timeout=60)  # the secret link: no token, as a calendar app fetches it
    assert feed.status_code == 200
    assert feed.headers["Content-Type"].startswith("text/calendar")

    calendar = icalendar.Calendar.from_ical(feed.content)
    events = [e for e in calendar.walk("VEVENT") if incident["reference"] in str(e.get("SUMMARY"))]
    assert events, [str(e.get("SUMMARY")) for e in calendar.walk("VEVENT")]
    for event in events:
        assert str(event["URL"]).startswith(vigil.url), event.get("URL")
        assert incident["id"] in str(event["URL"])
        description = str(event["DESCRIPTION"])
        assert incident["title"] in description
        assert "GDPR" in description
        assert event.walk("VALARM"), "a reminder before the deadline"
        assert all(str(alarm["ACTION"]) == "DISPLAY" for alarm in event.walk("VALARM"))
