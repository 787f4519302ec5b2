"""Notification obligations as shown outside Vigil (apps.core.representations): the API's fields (the
stored copy's key is not one of them)."""

from apps.core.representations import register_representation
from apps.notifications.api.serializers import ObligationSerializer
from apps.notifications.models import Obligation


def obligation_representation(obligation_id) -> dict:
    obligation = Obligation.unscoped.select_related("step", "incident").get(pk=obligation_id)
    return ObligationSerializer(obligation).data


register_representation("notifications.obligation", obligation_representation)
