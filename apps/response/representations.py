"""Incidents as shown outside Vigil (apps.core.representations): as the API shows them to a reader of
their tenant, a need-to-know incident as its summary."""

from apps.core.representations import register_representation
from apps.response.api.serializers import IncidentSerializer
from apps.response.models import Incident
from apps.response.selectors import with_team_ids


class IncidentShownOutsideSerializer(IncidentSerializer):
    """Without `allowed_transitions`: they depend on who asks."""

    class Meta(IncidentSerializer.Meta):
        fields = [name for name in IncidentSerializer.Meta.fields if name != "allowed_transitions"]
        read_only_fields = fields


def incident_representation(incident_id) -> dict:
    incident = with_team_ids(Incident.unscoped.filter(pk=incident_id)).get()
    incident.summary_only = incident.restricted
    return IncidentShownOutsideSerializer(incident).data


register_representation("response.incident", incident_representation)
