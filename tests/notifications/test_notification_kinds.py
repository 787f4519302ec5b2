"""The notification kinds people choose in their preferences, as they receive them (issue 13, defects 2 and
12): in-app through the API, by e-mail as multipart text and HTML naming the incident, its severity and
what is asked, with an absolute link (SITE_URL); only to people who may see it, never to the person who
made the change, once per change, as each person's preferences say."""

from zoneinfo import ZoneInfo

import pytest

from apps.notifications import reminder_tasks
from apps.notifications.models import Obligation, OutboxMessage, TrainingAssignment
from apps.response.choices import Severity
from apps.tenancy.roles import RoleId
from tests.factories import UserFactory
from tests.notifications.mailbox import delivered_to, inbox, text_and_html

SITE = "https://vigil.example.org"
AWARE = "2026-03-28T12:00:00+01:00"  # GDPR-2 is due 72 h later: 2026-03-31 13:00 Paris summer time


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def gdpr_tenant(tenant):
    tenant.settings = {"regimes": ["gdpr"]}
    tenant.time_zone = "Europe/Paris"
    tenant.save(update_fields=["settings", "time_zone"])
    return tenant


def the_email(user):
    [message] = delivered_to(user)
    return text_and_html(message)


# --------------------------------------------------------------------------------------------------
# Incident assigned to you
# --------------------------------------------------------------------------------------------------


def test_the_new_owner_is_told_in_app_and_by_an_email_with_a_link(
    declare, make_member, tenant, api_client_for, manager
):
    owner = make_member(RoleId.HANDLER, tenant)
    incident = declare(title="Phishing wave on payroll", owner=str(owner.pk))

    [row] = inbox(api_client_for(owner), "incident.assigned")
    assert (row["incident"], row["link"]) == (incident["id"], f"/incidents/{incident['id']}/")
    assert row["subject"] == f"{incident['reference']} assigned to you: Phishing wave on payroll"
    assert inbox(api_client_for(manager), "incident.assigned") == [], "never the actor"

    [message] = delivered_to(owner)
    assert message["Subject"] == row["subject"]
    text, html = text_and_html(message)
    url = f"{SITE}/incidents/{incident['id']}/"
    assert f"Open it in Vigil: {url}" in text
    assert f'href="{url}"' in html
    for part in (text, html):
        assert incident["reference"] in part
        assert "Phishing wave on payroll" in part
        assert Severity(incident["severity"]).label in part
        assert "What is asked of you" in part
        assert f"{SITE}/notifications/preferences/" in part


def test_owner_changes_tell_each_new_owner_once_per_change(
    declare, make_member, tenant, api_client_for, manager, patch_incident
):
    first, second = make_member(RoleId.HANDLER, tenant), make_member(RoleId.HANDLER, tenant)
    incident = declare()
    patch_incident(incident["id"], owner=str(manager.pk))  # the actor takes it: nobody is told
    patch_incident(incident["id"], owner=str(first.pk))
    patch_incident(incident["id"], title="Phishing wave, second day")  # not an owner change
    patch_incident(incident["id"], owner=str(second.pk))
    patch_incident(incident["id"], owner=str(first.pk))

    assert len(inbox(api_client_for(first), "incident.assigned")) == 2
    assert len(inbox(api_client_for(second), "incident.assigned")) == 1
    assert inbox(api_client_for(manager), "incident.assigned") == []
    assert len(delivered_to(first)) == 2


def test_new_team_members_are_told_but_not_the_owner_twice(
    declare, make_member, tenant, api_client_for, patch_incident
):
    owner, colleague = make_member(RoleId.HANDLER, tenant), make_member(RoleId.INVESTIGATOR, tenant)
    incident = declare(owner=str(owner.pk))
    patch_incident(incident["id"], team=[str(owner.pk), str(colleague.pk)])

    [joined] = inbox(api_client_for(colleague), "incident.assigned")
    assert joined["subject"].startswith(f"You joined the team of {incident['reference']}")
    assert len(inbox(api_client_for(owner), "incident.assigned")) == 1  # as owner only


def test_a_restricted_incident_is_never_announced_to_someone_who_cannot_see_it(
    declare, make_member, tenant, api_client_for, patch_incident
):
    uncleared = make_member(RoleId.INVESTIGATOR, tenant)
    cleared = make_member(RoleId.MANAGER, tenant)
    incident = declare(restricted=True, owner=str(uncleared.pk))
    patch_incident(incident["id"], owner=str(cleared.pk))

    assert inbox(api_client_for(uncleared)) == []
    assert not OutboxMessage.objects.filter(recipient=uncleared.email).exists()
    assert len(inbox(api_client_for(cleared), "incident.assigned")) == 1


def test_an_action_assignee_is_told_with_its_due_time_in_the_tenants_zone(
    gdpr_tenant, declare, make_member, api_client_for, manager
):
    assignee = make_member(RoleId.HANDLER, gdpr_tenant)
    incident = declare()
    client = api_client_for(manager)
    url = f"/api/v1/incidents/{incident['id']}/actions/"
    body = {"title": "Reset the payroll passwords", "assignee": str(assignee.pk), "due_at": AWARE}
    assert client.post(url, body, format="json").status_code == 201
    assert (
        client.post(url, {"title": "Brief the board", "assignee": str(manager.pk)}, format="json").status_code
        == 201
    )

    [row] = inbox(api_client_for(assignee), "incident.assigned")
    assert row["link"] == f"/incidents/{incident['id']}/#actions"
    text, html = the_email(assignee)
    assert "Reset the payroll passwords" in text
    assert "2026-03-28 12:00 CET (Europe/Paris)" in text
    assert f'href="{SITE}/incidents/{incident["id"]}/#actions"' in html
    assert inbox(client, "incident.assigned") == [], "never the actor"


# --------------------------------------------------------------------------------------------------
# Incident status changed
# --------------------------------------------------------------------------------------------------


def transition(client, incident, to, note=""):
    response = client.post(
        f"/api/v1/incidents/{incident['id']}/transition/", {"to": to, "note": note}, format="json"
    )
    assert response.status_code == 200, response.json()


def test_the_owner_and_team_are_told_of_a_status_change_once_each(
    declare, make_member, tenant, api_client_for, manager, patch_incident
):
    owner, colleague = make_member(RoleId.HANDLER, tenant), make_member(RoleId.INVESTIGATOR, tenant)
    incident = declare(owner=str(owner.pk))
    patch_incident(incident["id"], team=[str(owner.pk), str(colleague.pk), str(manager.pk)])

    transition(api_client_for(manager), incident, "investigating")

    for person in (owner, colleague):
        [row] = inbox(api_client_for(person), "incident.transitioned")
        assert row["subject"] == f"{incident['reference']} is now investigating: {incident['title']}"
    assert inbox(api_client_for(manager), "incident.transitioned") == [], "never the actor"
    moved = next(m for m in delivered_to(colleague) if "is now investigating" in m["Subject"])
    text, html = text_and_html(moved)
    assert "moved from declared to investigating" in text
    assert "Investigate: find the cause" in html


def test_a_summary_only_reader_is_told_without_what_a_summary_hides(
    declare, make_member, tenant, api_client_for, manager, patch_incident
):
    """An executive sees a need-to-know incident as a summary: the note and who moved it stay out."""
    owner = make_member(RoleId.MANAGER, tenant, username="olga")
    executive = make_member(RoleId.EXECUTIVE, tenant)
    incident = declare(restricted=True, impact="low", urgency="low", owner=str(owner.pk))
    patch_incident(incident["id"], team=[str(executive.pk)])
    client = api_client_for(manager)
    transition(client, incident, "investigating")
    transition(client, incident, "closed", note="Red team exercise run by Mallory")

    [closed, _] = inbox(api_client_for(owner), "incident.transitioned")
    assert "Red team exercise run by Mallory" in closed["body"]
    assert manager.username in closed["body"]

    rows = inbox(api_client_for(executive), "incident.transitioned")
    assert len(rows) == 2
    for message in delivered_to(executive):
        for part in text_and_html(message):
            assert incident["reference"] in part
            assert "Mallory" not in part
            assert manager.username not in part
    assert all("Mallory" not in row["body"] and manager.username not in row["body"] for row in rows)


# --------------------------------------------------------------------------------------------------
# Notification obligation opened, notice submitted
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def breach(gdpr_tenant, declare, make_member, patch_incident):
    """A personal-data breach owned by a handler, with a second manager; its GDPR obligations are open."""

    def make():
        owner = make_member(RoleId.HANDLER, gdpr_tenant)
        colleague = make_member(RoleId.MANAGER, gdpr_tenant)
        incident = declare(owner=str(owner.pk))
        patch_incident(incident["id"], personal_data_breach=True, aware_at=AWARE)
        return incident, owner, colleague

    return make


def test_an_opened_obligation_reaches_the_managers_and_the_owner(
    breach, api_client_for, make_member, gdpr_tenant
):
    bystander = make_member(RoleId.HANDLER, gdpr_tenant)
    incident, owner, colleague = breach()

    for person in (owner, colleague):
        subjects = {row["subject"] for row in inbox(api_client_for(person), "obligation.created")}
        opened = "Notification obligation opened: Notification to supervisory authority (GDPR)"
        assert f"{opened} for incident {incident['reference']}" in subjects
        assert len(subjects) == 2  # GDPR-2 and GDPR-4
    assert inbox(api_client_for(bystander)) == []

    gdpr_2 = next(m for m in delivered_to(colleague) if "supervisory authority" in m["Subject"])
    text, html = text_and_html(gdpr_2)
    assert "2026-03-31 13:00 CEST (Europe/Paris)" in text
    assert f"{SITE}/incidents/{incident['id']}/#obligations" in text
    assert f'href="{SITE}/incidents/{incident["id"]}/#obligations"' in html
    assert "submit it before 2026-03-31 13:00 CEST" in html


def test_a_submitted_notice_is_told_to_the_others_who_answer_for_it(breach, api_client_for, manager):
    incident, owner, colleague = breach()
    gdpr_2 = Obligation.unscoped.get(incident_id=incident["id"], step__code="GDPR-2")
    response = api_client_for(owner).post(
        f"/api/v1/obligations/{gdpr_2.pk}/submit/", {"reference": "CNIL-2026-0042"}, format="json"
    )
    assert response.status_code == 200, response.json()

    for person in (manager, colleague):
        [row] = inbox(api_client_for(person), "obligation.submitted")
        assert "after its deadline" in row["body"]  # 2026-03-31 is long past
    assert inbox(api_client_for(owner), "obligation.submitted") == [], "never the actor"
    submitted = next(m for m in delivered_to(colleague) if m["Subject"].startswith("Notice submitted"))
    text, _ = text_and_html(submitted)
    assert "Their reference: CNIL-2026-0042" in text


def test_the_events_behind_the_webhooks_are_emitted(
    breach, make_member, gdpr_tenant, api_client_for, manager
):
    admin = make_member(RoleId.TENANT_ADMIN, gdpr_tenant)
    events = ["obligation.created", "obligation.submitted", "incident.transitioned"]
    body = {"tenant": str(gdpr_tenant.pk), "url": "https://hooks.example.org/vigil", "events": events}
    assert api_client_for(admin).post("/api/v1/webhooks/", body, format="json").status_code == 201
    incident, owner, _ = breach()
    gdpr_2 = Obligation.unscoped.get(incident_id=incident["id"], step__code="GDPR-2")
    api_client_for(owner).post(
        f"/api/v1/obligations/{gdpr_2.pk}/submit/", {"reference": "R-1"}, format="json"
    )
    transition(api_client_for(manager), incident, "investigating")

    sent = [
        m.payload["event"]["type"]
        for m in OutboxMessage.objects.filter(channel="webhook").order_by("created_at")
    ]
    assert sent.count("obligation.created") == 2
    assert sent.count("obligation.submitted") == 1
    assert sent.count("incident.transitioned") == 1


# --------------------------------------------------------------------------------------------------
# Preferences, escaping, the other kinds' e-mails
# --------------------------------------------------------------------------------------------------


def test_each_channel_follows_the_persons_preference(declare, make_member, tenant, api_client_for):
    e_mail_only, in_app_only = make_member(RoleId.HANDLER, tenant), make_member(RoleId.HANDLER, tenant)
    url = "/api/v1/notification-preferences/incident.assigned/"
    assert api_client_for(e_mail_only).patch(url, {"in_app": False}, format="json").status_code == 200
    assert api_client_for(in_app_only).patch(url, {"email": False}, format="json").status_code == 200
    declare(owner=str(e_mail_only.pk))
    declare(owner=str(in_app_only.pk))

    assert inbox(api_client_for(e_mail_only)) == []
    assert len(delivered_to(e_mail_only)) == 1
    assert len(inbox(api_client_for(in_app_only))) == 1
    assert delivered_to(in_app_only) == []


def test_the_html_is_escaped(declare, make_member, tenant):
    owner = make_member(RoleId.HANDLER, tenant)
    declare(title='<script>alert("x")</script> & co', owner=str(owner.pk))
    text, html = the_email(owner)
    assert '<script>alert("x")</script> & co' in text
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_the_escalation_email_names_the_incident_and_links_to_it(make_member, tenant, api_client_for):
    manager = make_member(RoleId.MANAGER, tenant)
    executive = make_member(RoleId.EXECUTIVE, tenant)
    body = {"tenant": str(tenant.id), "title": "Ransomware", "impact": "critical", "urgency": "critical"}
    incident = api_client_for(manager).post("/api/v1/incidents/", body, format="json").json()
    text, html = the_email(executive)
    assert f"Incident: {incident['reference']}: Ransomware" in text
    assert "Severity: P1 - critical" in text
    assert "Senior management attention" in html
    assert f'href="{SITE}/incidents/{incident["id"]}/"' in html


def test_a_deadline_reminder_email_is_multipart_with_the_due_time_and_the_link(breach, api_client_for):
    incident, owner, _ = breach()
    gdpr_2 = Obligation.unscoped.get(incident_id=incident["id"], step__code="GDPR-2")
    reminder_tasks.obligation_remind.apply(
        kwargs={"tenant_id": str(gdpr_2.tenant_id), "pk": str(gdpr_2.pk)}
    ).get()

    overdue = next(m for m in delivered_to(owner) if m["Subject"].startswith("Overdue"))
    text, html = text_and_html(overdue)
    assert "The deadline passed at 2026-03-31 13:00 CEST (Europe/Paris)" in text
    assert "Submit the notice now, or waive it with a rationale." in html
    assert f'href="{SITE}/incidents/{incident["id"]}/#obligations"' in html


def test_a_training_email_is_multipart_with_the_due_date_and_the_link(api_client_for, make_member, tenant):
    admin = make_member(RoleId.TENANT_ADMIN, tenant)
    body = {"tenant": str(tenant.id), "name": "Incident reporting awareness", "mandatory": True}
    assert api_client_for(admin).post("/api/v1/training/courses/", body, format="json").status_code == 201
    learner = UserFactory()
    membership = {"user": str(learner.pk), "tenant": str(tenant.pk), "role": RoleId.REPORTER}
    assert (
        api_client_for(UserFactory(is_superuser=True))
        .post("/api/v1/memberships/", membership, format="json")
        .status_code
        == 201
    )

    assignment = TrainingAssignment.unscoped.get(user=learner)
    [row] = inbox(api_client_for(learner), "training.assigned")
    text, html = the_email(learner)
    due = assignment.due_at.astimezone(ZoneInfo(tenant.time_zone or "UTC"))
    assert f"Complete it by {due:%Y-%m-%d %H:%M}" in text
    assert "Course: Incident reporting awareness" in text
    assert f'href="{SITE}{row["link"]}"' in html
