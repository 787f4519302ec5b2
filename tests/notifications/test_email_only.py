"""A person who silenced a kind in the app but wants it by e-mail gets the e-mail alone, once per change."""

import pytest

from apps.notifications.messaging import notify
from apps.notifications.models import Notification
from apps.notifications.preferences import preference_set
from apps.tenancy.roles import RoleId
from tests.notifications.mailbox import delivered_to, inbox

pytestmark = pytest.mark.django_db


def test_with_in_app_silenced_the_email_alone_arrives_once(
    declare, make_member, tenant, api_client_for, in_tenant, django_capture_on_commit_callbacks
):
    owner = make_member(RoleId.HANDLER, tenant)
    with in_tenant(owner):
        preference_set(actor=owner, user=owner, kind="incident.assigned", in_app=False, email=True)
    incident = declare(title="Phishing wave on payroll", owner=str(owner.pk))

    assert inbox(api_client_for(owner), "incident.assigned") == []
    [message] = delivered_to(owner)
    assert incident["reference"] in message["Subject"]

    with in_tenant(owner), django_capture_on_commit_callbacks(execute=True):
        again = notify(
            tenant_id=tenant.pk,
            users=[owner],
            kind="incident.assigned",
            subject=message["Subject"],
            incident_id=incident["id"],
            dedupe_key=f"incident:{incident['id']}:assigned-again",
        )
        notify(
            tenant_id=tenant.pk,
            users=[owner],
            kind="incident.assigned",
            subject=message["Subject"],
            incident_id=incident["id"],
            dedupe_key=f"incident:{incident['id']}:assigned-again",
        )
    assert again == []
    assert not Notification.unscoped.filter(user=owner).exists()
    assert len(delivered_to(owner)) == 2  # the declaration's, and the repeated key's once
