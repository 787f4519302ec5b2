from apps.audit.services import audit_record
from apps.core.events import DomainEvent


def record_every_event(event: DomainEvent) -> None:
    audit_record(event=event)
