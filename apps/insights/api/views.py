from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer, TemplateHTMLRenderer
from rest_framework.response import Response

from apps.insights import selectors
from apps.insights.period import period_from
from apps.tenancy.api.base import TenantScopedViewSet
from apps.tenancy.roles import Scope

PERIOD_PARAMETERS = [
    OpenApiParameter("tenant", OpenApiTypes.UUID, description="Only this tenant and its descendants"),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (default: 364 days before `to`)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, inclusive (default: today)"),
]


class PrintableHTMLRenderer(TemplateHTMLRenderer):
    """`?format=html`: the same report as a printable page."""

    format = "html"


class _PeriodReportViewSet(TenantScopedViewSet):
    action_scopes = {"list": Scope.DASHBOARD_READ}
    pagination_class = None
    filter_backends = []

    def period(self):
        return period_from(self.request.query_params.get("from"), self.request.query_params.get("to"))


class ComplianceReportViewSet(_PeriodReportViewSet):
    """The ISO/IEC 27001 evidence report: for A.5.24-A.5.28 and A.6.8 (2013: A.16.1.1-A.16.1.7), the records
    that show each control operated in the period, and the gaps."""

    renderer_classes = [JSONRenderer, PrintableHTMLRenderer]
    template_name = "insights/iso27001.html"

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def list(self, request):
        return Response(selectors.compliance_report(access=self.access, period=self.period()))


class MetricsViewSet(_PeriodReportViewSet):
    """Time to assess, contain, recover and close (mean and median hours), counts, open and overdue
    actions."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def list(self, request):
        return Response(selectors.metrics_report(access=self.access, period=self.period()))
