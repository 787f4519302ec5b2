from apps.core.events import DomainEvent
from apps.response.services import incident_grants_revoke_for_member


def revoke_grants_of_former_member(event: DomainEvent) -> None:
    incident_grants_revoke_for_member(tenant_id=event.tenant_id, user_id=event.data["user_id"])
