"""A write racing a close (issue 13, defect 7): it waits for the closing transaction and is refused, so no
open action lands on an incident whose close just decided on all of them."""

import threading
import time

import pytest
from django.db import connection, transaction

from apps.response.models import ResponseAction
from apps.response.services import incident_transition
from apps.tenancy.access import access_for
from apps.tenancy.context import activate
from tests.factories import IncidentFactory


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_an_action_added_while_the_incident_closes_is_refused(tenant, manager, handler, api_client_for):
    incident = IncidentFactory(tenant=tenant, status="recovered", root_cause="Look-alike domain")
    client = api_client_for(handler)
    result = {}

    def add_action():
        try:
            result["response"] = client.post(
                f"/api/v1/incidents/{incident.pk}/actions/", {"title": "Late"}, format="json"
            )
        finally:
            connection.close()

    access = access_for(manager)
    with activate(access), transaction.atomic():
        incident_transition(actor=manager, access=access, incident=incident, to="closed")
        writer = threading.Thread(target=add_action)
        writer.start()
        deadline = time.monotonic() + 10
        while not _waiting_on_a_lock() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_on_a_lock(), "the action's request should wait for the closing transaction"
        assert "response" not in result
    writer.join(timeout=10)
    assert result["response"].status_code == 409
    assert result["response"].json()["code"] == "closed"
    assert not ResponseAction.unscoped.filter(incident_id=incident.pk).exists()
