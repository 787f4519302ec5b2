"""Every notification kind a person can choose in their preferences, delivered by a running Vigil (gunicorn,
a Celery worker, an SMTP server): in-app through the API, and by e-mail as a mail client receives it,
multipart text and HTML naming the incident or course, with an absolute link to a page that exists.
tests/notifications/test_notification_kinds_meta.py requires one journey per kind (the marker)."""

from __future__ import annotations

import time
from datetime import timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.notifications.models import Obligation, TrainingAssignment
from apps.response.choices import Severity
from apps.tenancy.roles import RoleId
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.notifications.mailbox import text_and_html

pytestmark = pytest.mark.django_db(transaction=True)
notification_kind = pytest.mark.notification_kind
SCAN_OBLIGATIONS = "apps.notifications.reminder_tasks.obligation_reminders_scan"
SCAN_TRAINING = "apps.notifications.reminder_tasks.training_reminders_scan"


@pytest.fixture
def people():
    """A department under GDPR (Paris time) and its people, each with an API token made on first use."""
    tenant = TenantFactory(name="Finance", reference_prefix="FIN", settings={"regimes": ["gdpr"]})
    tenant.time_zone = "Europe/Paris"
    tenant.save(update_fields=["time_zone"])
    cast = {"tenant": tenant}
    for name, role in [
        ("manager", RoleId.MANAGER),
        ("colleague", RoleId.MANAGER),
        ("handler", RoleId.HANDLER),
        ("executive", RoleId.EXECUTIVE),
        ("admin", RoleId.TENANT_ADMIN),
    ]:
        cast[name] = UserFactory(username=name)
        MembershipFactory(user=cast[name], tenant=tenant, role=role)
    return cast


def call(vigil, method: str, path: str, user, **kwargs) -> dict:
    response = vigil.request(method, path, token=vigil.token(user), **kwargs)
    assert response.status_code in (200, 201), response.text
    return response.json()


def received(vigil, user, subject: str, timeout: float = 60) -> EmailMessage:
    """The first e-mail to `user` whose subject starts with `subject`, waiting for it to arrive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in vigil.smtp.to(user.email):
            if message["Subject"].startswith(subject):
                return message
        time.sleep(0.2)
    got = [m["Subject"] for m in vigil.smtp.to(user.email)]
    raise AssertionError(f"no e-mail {subject!r}… to {user.email} in {timeout} s; got {got}")


def assert_delivered(vigil, user, *, kind: str, subject: str, names: list[str], path: str) -> None:
    """`user` received the notification in-app and by e-mail: both alternatives name what it is about and
    link to `path` on the running server, which exists (a page: signed out, the sign-in page leads to it;
    an API link: it answers the person)."""
    message = received(vigil, user, subject)
    text, html = text_and_html(message)
    link = f"{vigil.url}{path}"
    assert link in text
    assert f'href="{link}"' in html
    for name in names:
        assert name in text
        assert name in html
    rows = call(vigil, "GET", "/api/v1/notifications/", user, params={"kind": kind})["results"]
    assert any(row["subject"] == message["Subject"] and row["link"] == path for row in rows), rows
    if path.startswith("/api/"):
        assert vigil.get(path, token=vigil.token(user)).status_code == 200
    else:
        page = vigil.get(path.partition("#")[0], allow_redirects=False)
        assert page.status_code == 302, page.status_code
        assert "/sign-in/" in page.headers["Location"]


def declare(vigil, people, **fields) -> dict:
    body = {"tenant": str(people["tenant"].pk), "title": "Payroll database exposed", **fields}
    return call(
        vigil,
        "POST",
        "/api/v1/incidents/",
        people["manager"],
        json={"impact": "medium", "urgency": "high", **body},
    )


def breach(vigil, people, *, aware_hours_ago: float) -> tuple[dict, Obligation]:
    """A personal-data breach owned by the handler, aware `aware_hours_ago`; returns it and its GDPR-2."""
    incident = declare(vigil, people, owner=str(people["handler"].pk))
    aware = (timezone.now() - timedelta(hours=aware_hours_ago)).isoformat()
    body = {"personal_data_breach": True, "aware_at": aware}
    call(vigil, "PATCH", f"/api/v1/incidents/{incident['id']}/", people["manager"], json=body)
    return incident, Obligation.unscoped.get(incident_id=incident["id"], step__code="GDPR-2")


@notification_kind("incident.assigned")
def test_the_owner_of_an_incident_is_told(vigil, people):
    incident = declare(vigil, people, owner=str(people["handler"].pk))
    assert_delivered(
        vigil,
        people["handler"],
        kind="incident.assigned",
        subject=f"{incident['reference']} assigned to you",
        names=[incident["reference"], "Payroll database exposed", Severity(incident["severity"]).label],
        path=f"/incidents/{incident['id']}/",
    )


@notification_kind("incident.transitioned")
def test_the_owner_is_told_of_a_status_change(vigil, people):
    incident = declare(vigil, people, owner=str(people["handler"].pk))
    call(
        vigil,
        "POST",
        f"/api/v1/incidents/{incident['id']}/transition/",
        people["manager"],
        json={"to": "investigating"},
    )
    assert_delivered(
        vigil,
        people["handler"],
        kind="incident.transitioned",
        subject=f"{incident['reference']} is now investigating",
        names=[incident["reference"], "Investigate: find the cause"],
        path=f"/incidents/{incident['id']}/",
    )


@notification_kind("incident.escalated")
def test_executives_are_told_of_an_escalation(vigil, people):
    incident = declare(vigil, people, impact="critical", urgency="critical")
    assert_delivered(
        vigil,
        people["executive"],
        kind="incident.escalated",
        subject=f"P1 incident {incident['reference']}",
        names=[incident["reference"], "P1 - critical", "Senior management attention"],
        path=f"/incidents/{incident['id']}/",
    )


@notification_kind("obligation.created")
def test_an_opened_obligation_reaches_the_managers(vigil, people):
    incident, gdpr_2 = breach(vigil, people, aware_hours_ago=1)
    due = gdpr_2.due_at.astimezone(ZoneInfo("Europe/Paris"))
    assert_delivered(
        vigil,
        people["colleague"],
        kind="obligation.created",
        subject="Notification obligation opened: Notification to supervisory authority (GDPR)",
        names=[incident["reference"], f"{due:%Y-%m-%d %H:%M}", "(Europe/Paris)"],
        path=f"/incidents/{incident['id']}/#obligations",
    )


@notification_kind("obligation.submitted")
def test_a_submitted_notice_is_told_to_the_other_managers(vigil, people):
    incident, gdpr_2 = breach(vigil, people, aware_hours_ago=1)
    call(
        vigil,
        "POST",
        f"/api/v1/obligations/{gdpr_2.pk}/submit/",
        people["handler"],
        json={"reference": "CNIL-42"},
    )
    assert_delivered(
        vigil,
        people["colleague"],
        kind="obligation.submitted",
        subject="Notice submitted: Notification to supervisory authority (GDPR)",
        names=[incident["reference"], "CNIL-42"],
        path=f"/incidents/{incident['id']}/#obligations",
    )


@notification_kind("obligation.due_soon")
def test_a_deadline_reminder_reaches_the_owner(vigil, people):
    incident, _ = breach(vigil, people, aware_hours_ago=40)  # past 50 % of GDPR-2's 72 h
    vigil.run_task(SCAN_OBLIGATIONS)
    assert_delivered(
        vigil,
        people["handler"],
        kind="obligation.due_soon",
        subject="Due ",
        names=[incident["reference"], "Submit the notice to", "(Europe/Paris)"],
        path=f"/incidents/{incident['id']}/#obligations",
    )


@notification_kind("obligation.overdue")
def test_an_overdue_deadline_reaches_the_executives(vigil, people):
    incident, _ = breach(vigil, people, aware_hours_ago=80)
    vigil.run_task(SCAN_OBLIGATIONS)
    assert_delivered(
        vigil,
        people["executive"],
        kind="obligation.overdue",
        subject="Overdue: Notification to supervisory authority (GDPR)",
        names=[incident["reference"], "Submit the notice now, or waive it with a rationale."],
        path=f"/incidents/{incident['id']}/#obligations",
    )


COURSE = "Incident reporting awareness"


def mandatory_course(vigil, people, **fields) -> None:
    body = {
        "tenant": str(people["tenant"].pk),
        "name": COURSE,
        "mandatory": True,
        **fields,
    }
    call(vigil, "POST", "/api/v1/training/courses/", people["admin"], json=body)


def assert_told_of_the_course(vigil, person, assignment, *, kind: str, subject: str, also: str) -> None:
    """`person` received the `kind` notification about the learner's assignment to the course."""
    path = f"/training/#assignment-{assignment.pk}"
    assert_delivered(vigil, person, kind=kind, subject=subject, names=[COURSE, also], path=path)


def new_member(vigil, people):
    learner = UserFactory(username="learner")
    body = {"user": str(learner.pk), "tenant": str(people["tenant"].pk), "role": RoleId.REPORTER}
    call(vigil, "POST", "/api/v1/memberships/", UserFactory(is_superuser=True), json=body)
    return learner, TrainingAssignment.unscoped.get(user=learner)


@notification_kind("training.assigned")
def test_a_new_member_is_told_of_a_mandatory_course(vigil, people):
    mandatory_course(vigil, people)
    learner, assignment = new_member(vigil, people)
    assert_told_of_the_course(
        vigil,
        learner,
        assignment,
        kind="training.assigned",
        subject=f"Training assigned: {COURSE}",
        also="Complete it by",
    )


@notification_kind("training.due_soon")
def test_a_course_due_soon_is_reminded(vigil, people):
    mandatory_course(vigil, people, due_within_days=2)  # the 3-day point has passed at once
    learner, assignment = new_member(vigil, people)
    vigil.run_task(SCAN_TRAINING)
    assert_told_of_the_course(
        vigil, learner, assignment, kind="training.due_soon", subject="Training due ", also="Complete it by"
    )


@notification_kind("training.overdue")
def test_an_overdue_course_reaches_the_person_and_the_tenant_admins(vigil, people):
    mandatory_course(vigil, people)
    learner, assignment = new_member(vigil, people)
    past = timezone.now() - timedelta(hours=1)
    TrainingAssignment.unscoped.filter(pk=assignment.pk).update(due_at=past, next_reminder_at=past)
    vigil.run_task(SCAN_TRAINING)
    for person in (learner, people["admin"]):
        assert_told_of_the_course(
            vigil,
            person,
            assignment,
            kind="training.overdue",
            subject=f"Training overdue: {COURSE} (learner)",
            also="learner",
        )
