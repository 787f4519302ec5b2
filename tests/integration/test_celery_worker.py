import pytest
from django.db import transaction

from apps.audit.models import AuditChainHead, AuditEntry
from apps.audit.tasks import audit_record_chain_heads
from apps.core.events import publish
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_beat_task_runs_in_a_real_worker_and_writes_to_the_database(
    celery_worker_process, superuser, tenant
):
    with transaction.atomic():
        publish(verb="test.event", actor=superuser, target=tenant, tenant_id=tenant.id)
    head = AuditEntry.unscoped.get(chain=str(tenant.id))

    audit_record_chain_heads.delay()

    recorded = wait_for(lambda: AuditChainHead.objects.filter(chain=str(tenant.id)).first())
    assert (recorded.seq, recorded.hash) == (head.seq, head.hash)
    assert celery_worker_process.poll() is None
