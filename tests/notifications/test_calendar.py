"""The personal iCalendar feed: a secret link (rotatable), RFC 5545 text (CRLF, folding at 75 octets,
escaping), events a person understands (what is due for which incident, to whom, the legal basis, the
due time, the incident's page, reminders before it is due), and the same visibility as the API."""

import urllib.request
from datetime import timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.conf import settings
from django.utils import timezone

from apps.notifications import ical
from apps.notifications.models import Course, Obligation, TrainingAssignment
from apps.response.api.serializers import SUMMARY_FIELDS
from apps.response.models import Incident
from apps.tenancy.roles import RoleId
from tests.factories import TenantFactory


@pytest.fixture
def gdpr_tenant(tenant):
    tenant.settings = {"regimes": ["gdpr"]}
    tenant.save(update_fields=["settings"])
    return tenant


def parse(body: bytes) -> list[dict]:
    """A strict reader: every line ends in CRLF and is at most 75 octets; BEGIN/END pairs nest; returns
    the VEVENTs as {property: value} after unfolding."""
    assert body.endswith(b"\r\n")
    raw_lines = body.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in raw_lines)
    assert all(len(line) <= 75 for line in raw_lines), max(raw_lines, key=len)
    lines = []
    for line in raw_lines:
        if line.startswith(b" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    stack, events, current = [], [], None
    for line in (line.decode() for line in lines):
        name, _, value = line.partition(":")
        if name == "BEGIN":
            stack.append(value)
            if value == "VEVENT":
                current = {}
        elif name == "END":
            assert stack, f"END:{value} without BEGIN"
            assert stack.pop() == value, f"unbalanced END:{value}"
            if value == "VEVENT":
                events.append(current)
                current = None
        elif current is not None and stack[-1] == "VEVENT":  # not the properties of its alarms
            current[name] = value
    assert stack == [], "unclosed components"
    assert lines[0] == b"BEGIN:VCALENDAR"
    return events


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            nxt = next(chars)
            out.append("\n" if nxt in "nN" else nxt)
        else:
            out.append(char)
    return "".join(out)


def test_text_is_escaped_and_long_lines_fold_between_characters():
    assert ical.escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "SUMMARY:" + "é" * 100  # two octets each: a fold must not split one
    folded = ical.fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert "".join([parts[0], *(p[1:] for p in parts[1:])]) == line


def test_the_feed_url_is_personal_and_rotates(api_client_for, make_member, tenant, client):
    user = make_member(RoleId.HANDLER, tenant)
    api = api_client_for(user)
    first = api.get("/api/v1/calendar/").json()["url"]
    assert api.get("/api/v1/calendar/").json()["url"] == first, "stable until rotated"
    assert first.startswith("http://testserver/calendar/")
    assert first.endswith(".ics")
    path = first.removeprefix("http://testserver")
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")

    rotated = api.post("/api/v1/calendar/").json()["url"]
    assert rotated != first
    assert client.get(path).status_code == 404, "the old link is dead"
    assert client.get(rotated.removeprefix("http://testserver")).status_code == 200
    assert client.get(path[:-10] + "0000000000").status_code == 404
    assert client.get("/calendar/nonsense.ics").status_code == 404
    other = api_client_for(make_member(RoleId.HANDLER, tenant)).get("/api/v1/calendar/").json()["url"]
    assert other != rotated


def test_the_feed_lists_visible_pending_obligations_and_own_training(
    gdpr_tenant, declare, patch_incident, make_member, api_client_for, client
):
    handler = make_member(RoleId.HANDLER, gdpr_tenant)
    open_one = declare(title='Leak, "big"; really\\bad')
    patch_incident(open_one["id"], personal_data_breach=True, aware_at=timezone.now().isoformat())
    restricted = declare(title="Need to know", restricted=True)
    patch_incident(restricted["id"], personal_data_breach=True, aware_at=timezone.now().isoformat())
    elsewhere = TenantFactory(settings={"regimes": ["gdpr"]})
    course = Course.unscoped.create(
        tenant=gdpr_tenant, name="Awareness, level 1", description="Read; then act"
    )
    mine = TrainingAssignment.unscoped.create(
        tenant=gdpr_tenant, course=course, user=handler, due_at=timezone.now() + timedelta(days=9)
    )
    TrainingAssignment.unscoped.create(
        tenant=gdpr_tenant,
        course=course,
        user=make_member(RoleId.REPORTER, gdpr_tenant),
        due_at=timezone.now() + timedelta(days=9),
    )
    submitted = Obligation.unscoped.get(incident_id=open_one["id"], step__code="GDPR-4")
    Obligation.unscoped.filter(pk=submitted.pk).update(status="waived", waived_rationale="No high risk")

    url = api_client_for(handler).get("/api/v1/calendar/").json()["url"]
    response = client.get(url.removeprefix("http://testserver"))
    events = parse(response.content)

    visible = Obligation.unscoped.get(incident_id=open_one["id"], step__code="GDPR-2")
    assert {e["UID"] for e in events} == {f"obligation-{visible.pk}@vigil", f"training-{mine.pk}@vigil"}
    event = next(e for e in events if e["UID"].startswith("obligation-"))
    assert event["DTEND"] == visible.due_at.strftime("%Y%m%dT%H%M%SZ")
    assert "DTSTAMP" in event
    assert event["DTSTAMP"].endswith("Z")
    reference = Incident.unscoped.get(pk=open_one["id"]).reference
    assert reference in unescape(event["SUMMARY"])
    training_event = next(e for e in events if e["UID"].startswith("training-"))
    assert unescape(training_event["SUMMARY"]) == "Training due: Awareness, level 1"
    assert unescape(training_event["DESCRIPTION"]) == "Read; then act"
    assert "\\," in training_event["SUMMARY"]
    assert "\\;" in training_event["DESCRIPTION"]
    other_manager = make_member(RoleId.MANAGER, elsewhere)
    other_url = api_client_for(other_manager).get("/api/v1/calendar/").json()["url"]
    assert parse(client.get(other_url.removeprefix("http://testserver")).content) == []
    assert str(restricted["id"])  # need-to-know: see the next test


def test_the_feed_follows_need_to_know_like_the_api(
    gdpr_tenant, declare, patch_incident, manager, api_client_for, client, make_member
):
    restricted = declare(title="Need to know", restricted=True)
    patch_incident(restricted["id"], personal_data_breach=True, aware_at=timezone.now().isoformat())
    pending = set(
        Obligation.unscoped.filter(incident_id=restricted["id"], status="pending").values_list(
            "pk", flat=True
        )
    )

    def feed_uids(user):
        url = api_client_for(user).get("/api/v1/calendar/").json()["url"]
        return {e["UID"] for e in parse(client.get(url.removeprefix("http://testserver")).content)}

    expected = {f"obligation-{pk}@vigil" for pk in pending}
    assert feed_uids(manager) == expected
    assert feed_uids(make_member(RoleId.HANDLER, gdpr_tenant)) == set()
    assert feed_uids(make_member(RoleId.REPORTER, gdpr_tenant)) == set()
    assert feed_uids(make_member(RoleId.MANAGER, TenantFactory())) == set()
    # Same rows as the API shows that person.
    api_ids = {
        row["id"]
        for row in api_client_for(manager)
        .get("/api/v1/obligations/", {"status": "pending"})
        .json()["results"]
    }
    assert {f"obligation-{pk}@vigil" for pk in api_ids} == expected


def fetch_over_http(live_server, url: str) -> bytes:
    """The feed as a calendar app fetches it: a GET of the secret link on a real HTTP server."""
    with urllib.request.urlopen(live_server.url + url.removeprefix("http://testserver")) as response:
        assert response.headers["Content-Type"].startswith("text/calendar")
        return response.read()


@pytest.mark.django_db(transaction=True)
def test_an_obligation_event_says_what_is_due_for_whom_links_the_incident_and_reminds(
    live_server, gdpr_tenant, declare, patch_incident, make_member, api_client_for
):
    handler = make_member(RoleId.HANDLER, gdpr_tenant)
    leak = declare(title='Leak, "big"; really\\bad')
    patch_incident(leak["id"], personal_data_breach=True, aware_at=timezone.now().isoformat())
    soon = declare(title="Found late")  # GDPR-2 due in 2 hours: the 24-hour reminder has passed
    patch_incident(
        soon["id"], personal_data_breach=True, aware_at=(timezone.now() - timedelta(hours=70)).isoformat()
    )
    url = api_client_for(handler).get("/api/v1/calendar/").json()["url"]

    body = fetch_over_http(live_server, url)

    parse(body)  # the strict line rules
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}
    gdpr_2 = Obligation.unscoped.select_related("incident").get(incident_id=leak["id"], step__code="GDPR-2")
    event = events[f"obligation-{gdpr_2.pk}@vigil"]
    reference = gdpr_2.incident.reference
    assert str(event["SUMMARY"]) == (
        f'Notification to supervisory authority (GDPR) due: {reference} Leak, "big"; really\\bad'
    )
    page = f"{settings.SITE_URL}/incidents/{leak['id']}/#obligations"
    assert str(event["URL"]) == page
    assert event.decoded("DTEND") == gdpr_2.due_at.replace(microsecond=0)
    due = timezone.localtime(gdpr_2.due_at, timezone=ZoneInfo(gdpr_tenant.time_zone))
    assert str(event["DESCRIPTION"]).split("\n") == [
        "Notification to supervisory authority (GDPR): step GDPR-2 of EU GDPR",
        f'Incident {reference} Leak, "big"; really\\bad',
        f"Send to: {gdpr_2.recipient}",
        f"Legal basis: {gdpr_2.step.citation}",
        f"Due: {due:%Y-%m-%d %H:%M %Z}",
        page,
    ]
    alarms = event.walk("VALARM")
    assert [(str(a["ACTION"]), a["TRIGGER"].dt, a["TRIGGER"].params["RELATED"]) for a in alarms] == [
        ("DISPLAY", -timedelta(hours=24), "END"),
        ("DISPLAY", -timedelta(hours=1), "END"),
    ]
    assert str(alarms[0]["DESCRIPTION"]).startswith(
        "Notification to supervisory authority (GDPR) due in 24 hours"
    )
    late = Obligation.unscoped.get(incident_id=soon["id"], step__code="GDPR-2")
    late_alarms = events[f"obligation-{late.pk}@vigil"].walk("VALARM")
    assert [a["TRIGGER"].dt for a in late_alarms] == [-timedelta(hours=1)]


@pytest.mark.django_db(transaction=True)
def test_a_summary_only_viewers_feed_leaves_out_a_need_to_know_incidents_deadlines(
    live_server, gdpr_tenant, declare, patch_incident, make_member, api_client_for
):
    """An obligation is an incident's child, not part of its summary (issue 14): the executive's feed
    carries the open incident's deadlines and none of the restricted one's."""
    aware = timezone.now().isoformat()
    incident = declare(title="Board matter", restricted=True, description="The CFO's laptop, do not share")
    patch_incident(incident["id"], personal_data_breach=True, aware_at=aware)
    opened = declare(title="Open matter")
    patch_incident(opened["id"], personal_data_breach=True, aware_at=aware)
    executive = make_member(RoleId.EXECUTIVE, gdpr_tenant)
    shown = api_client_for(executive).get(f"/api/v1/incidents/{incident['id']}/").json()
    assert set(shown) <= SUMMARY_FIELDS  # the executive sees this incident as its summary
    url = api_client_for(executive).get("/api/v1/calendar/").json()["url"]

    body = fetch_over_http(live_server, url).decode()

    events = [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]
    reference = Incident.unscoped.get(pk=incident["id"]).reference
    assert any(summary.endswith("Open matter") for summary in events), events
    assert not any(reference in summary or "Board matter" in summary for summary in events), events
    assert "CFO" not in body
