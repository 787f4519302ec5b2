from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from apps.assessment import selectors, services
from apps.assessment.api.serializers import AssessmentCreateSerializer, AssessmentSerializer
from apps.reporting.selectors import report_list
from apps.tenancy.api.base import TenantScopedViewSet
from apps.tenancy.roles import Scope


class AssessmentViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    """/reports/{id}/assessment/: POST records a decision on the report, GET lists its decisions newest
    first. The report is resolved through the same visibility rule as the report itself (404 otherwise)."""

    serializer_class = AssessmentSerializer
    cursor_ordering = ("-decided_at", "-id")
    action_scopes = {"list": Scope.REPORT_READ, "create": Scope.REPORT_ASSESS}

    def get_report(self):
        if not hasattr(self, "_report"):
            self._report = get_object_or_404(report_list(access=self.access), pk=self.kwargs["report_pk"])
        return self._report

    def scoped_queryset(self):
        report = self.get_report()
        if not self.access.has_scope(report.tenant_id, Scope.REPORT_READ):
            self.permission_denied(self.request, "You may not read the decisions on reports of this tenant.")
        return selectors.assessment_history(access=self.access, report=report)

    @extend_schema(request=AssessmentCreateSerializer, responses={201: AssessmentSerializer})
    def create(self, request, report_pk=None):
        report = self.get_report()  # 404 before validating the body
        serializer = AssessmentCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        assessment = services.assessment_record(
            actor=request.user, access=self.access, report=report, **serializer.validated_data
        )
        return Response(self.get_serializer(assessment).data, status=status.HTTP_201_CREATED)
