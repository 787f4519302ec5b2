"""Reports as shown outside Vigil (apps.core.representations): the reporter of a confidential report is
never named (ReportSerializer fails closed without the selector's `reporter_visible`)."""

from apps.core.representations import register_representation
from apps.reporting.api.serializers import ReportSerializer
from apps.reporting.models import Report


def report_representation(report_id) -> dict:
    return ReportSerializer(Report.unscoped.get(pk=report_id)).data


register_representation("reporting.report", report_representation)
