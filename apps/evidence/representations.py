"""Evidence as shown outside Vigil (apps.core.representations): the API's fields (no storage key), and
nobody who handled an attachment of a confidential report."""

from apps.core.representations import register_representation
from apps.evidence.api.serializers import EvidenceSerializer
from apps.evidence.models import Evidence


def evidence_representation(evidence_id) -> dict:
    evidence = Evidence.unscoped.select_related("report").get(pk=evidence_id)
    evidence.identity_hidden = evidence.report is not None and evidence.report.confidential
    return EvidenceSerializer(evidence).data


register_representation("evidence.evidence", evidence_representation)
