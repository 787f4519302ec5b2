from celery import shared_task

from apps.audit.checkpoints import audit_record_chain_heads as record_heads


@shared_task(name="apps.audit.tasks.audit_record_chain_heads")
def audit_record_chain_heads() -> int:
    return record_heads()
