from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps.evidence.services import evidence_add
from apps.notifications.models import Course, Notification, TrainingAssignment
from apps.reporting.services import report_create
from apps.response.actions import action_create
from apps.response.services import incident_declare, incident_grant, incident_update
from apps.reviews.services import corrective_action_create, review_create
from apps.tenancy.access import access_for
from apps.tenancy.context import activate

PASSWORD = "correct-horse-battery"


@pytest.fixture
def client_for(verified_client_for):
    """A Django test Client signed in as the user (session, as a browser is), second factor passed."""
    return verified_client_for


@pytest.fixture
def gdpr_tenant(tenant):
    tenant.settings = {"regimes": ["gdpr"]}
    tenant.save(update_fields=["settings"])
    return tenant


@pytest.fixture
def world(gdpr_tenant, make_member, phishing):
    """One tenant's objects of every kind an object page shows: a report (with an attachment), an incident
    with an action, evidence and GDPR obligations."""
    users = {
        role: make_member(role, gdpr_tenant)
        for role in ["reporter", "handler", "manager", "auditor", "executive"]
    }
    access = access_for(users["manager"])
    with activate(access), transaction.atomic():
        report = report_create(
            actor=users["reporter"],
            access=access_for(users["reporter"]),
            tenant=gdpr_tenant,
            kind="event",
            title="Odd e-mail from the CFO",
            occurred_at=timezone.now(),
        )
        attachment = evidence_add(
            actor=users["reporter"],
            access=access_for(users["reporter"]),
            report=report,
            file=ContentFile(b"From: cfo@example.org\n\nPay now", name="mail.eml"),
        )
        incident = incident_declare(
            actor=users["manager"],
            access=access,
            tenant=gdpr_tenant,
            title="Customer list exposed",
            category=phishing,
            impact="high",
            urgency="high",
        )
        incident = incident_update(
            actor=users["manager"], access=access, incident=incident, personal_data_breach=True
        )
        action = action_create(
            actor=users["manager"], access=access, incident=incident, title="Reset passwords"
        )
        evidence = evidence_add(
            actor=users["manager"],
            access=access,
            incident=incident,
            file=ContentFile(b"log line\n", name="auth.log"),
        )
        review = review_create(
            actor=users["manager"], access=access, incident=incident, root_cause="Weak filter rules"
        )
        corrective_action = corrective_action_create(
            actor=users["manager"],
            access=access,
            review=review,
            title="Tighten the mail filter",
            owner=users["handler"],
            due_at=timezone.now() + timedelta(days=7),
        )
        grant = incident_grant(
            actor=users["manager"], access=access, incident=incident, user=users["auditor"], permission="view"
        )
        notification = Notification.unscoped.create(
            tenant=gdpr_tenant,
            user=users["manager"],
            kind="incident.assigned",
            subject=f"{incident.reference} was assigned to you",
            incident=incident,
        )
        assignment = TrainingAssignment.unscoped.create(
            tenant=gdpr_tenant,
            course=Course.unscoped.create(tenant=gdpr_tenant, name="Spotting phishing"),
            user=users["manager"],
            due_at=timezone.now() + timedelta(days=14),
        )
    from apps.notifications.models import Obligation

    obligations = list(Obligation.unscoped.filter(incident=incident).order_by("due_at"))
    assert obligations, "GDPR obligations were expected"
    return {
        "users": users,
        "tenant": gdpr_tenant,
        "report": report,
        "attachment": attachment,
        "incident": incident,
        "action": action,
        "evidence": evidence,
        "obligation": obligations[0],
        "review": review,
        "corrective_action": corrective_action,
        "grant": grant,
        "notification": notification,
        "assignment": assignment,
    }
