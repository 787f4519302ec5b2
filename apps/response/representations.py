"""Incidents as shown outside Vigil (apps.core.representations): as the API shows them to a summary-only
reader of their tenant (selectors.receiver_access): a need-to-know incident as its summary."""

from apps.core.representations import register_representation
from apps.response.api.serializers import IncidentSerializer
from apps.response.models import Incident
from apps.response.selectors import incident_visible, receiver_access, with_team_ids


class IncidentShownOutsideSerializer(IncidentSerializer):
    """Without `allowed_transitions`: they depend on who asks."""

    class Meta(IncidentSerializer.Meta):
        fields = [name for name in IncidentSerializer.Meta.fields if name != "allowed_transitions"]
        read_only_fields = fields


def incident_representation(incident_id) -> dict:
    """As the incident's tenant's receivers read it (selectors.receiver_access): a need-to-know incident as
    its summary. Inside the tenant's context (apps.notifications.webhooks)."""
    tenant_id = Incident.unscoped.filter(pk=incident_id).values_list("tenant_id", flat=True).first()
    visible = incident_visible(access=receiver_access(tenant_id=tenant_id)).filter(pk=incident_id)
    incident = with_team_ids(visible).first()
    # Outside its tenant's context nothing of it is shown but its id (fail closed).
    return {"id": str(incident_id)} if incident is None else IncidentShownOutsideSerializer(incident).data


register_representation("response.incident", incident_representation)
