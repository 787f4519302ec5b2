from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from apps.reporting import selectors, services
from apps.reporting.api.filters import ReportFilter
from apps.reporting.api.serializers import ReportCreatedSerializer, ReportCreateSerializer, ReportSerializer
from apps.tenancy.api.base import AUTHENTICATED, TenantScopedViewSet
from apps.tenancy.roles import Scope


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Reports of events, weaknesses and malfunctions. Everyone reports and sees its own; the tenant's queue
    is for the roles that read reports. Reports change only through assessments (no PUT/PATCH/DELETE)."""

    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {
        "list": AUTHENTICATED,
        "retrieve": AUTHENTICATED,
        "create": Scope.REPORT_CREATE,
    }

    def scoped_queryset(self):
        return selectors.report_list(access=self.access)

    @extend_schema(request=ReportCreateSerializer, responses={201: ReportCreatedSerializer})
    def create(self, request):
        serializer = ReportCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        report = services.report_create(actor=request.user, access=self.access, **serializer.validated_data)
        created = self.get_queryset().select_related("tenant").get(pk=report.pk)
        return Response(
            ReportCreatedSerializer(created, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )
