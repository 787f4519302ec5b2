from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.renderers import OctetStreamRenderer
from apps.core.body_limits import accepts_upload
from apps.core.files import HashingUploadHandler, attachment_headers
from apps.notifications import copies, selectors, services
from apps.notifications.api.filters import AuthorityFilter, ObligationFilter
from apps.notifications.api.serializers import (
    AuthorityCreateSerializer,
    AuthoritySerializer,
    ObligationAnchorSerializer,
    ObligationCreateSerializer,
    ObligationSerializer,
    ObligationSubmitSerializer,
    ObligationWaiveSerializer,
)
from apps.tenancy.api.base import TenantScopedViewSet
from apps.tenancy.roles import Scope


class ObligationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Notification obligations of incidents. Created by Vigil when an incident becomes subject to a regime
    (POST opens an on-demand one); `status` changes only through /submit/ and /waive/."""

    serializer_class = ObligationSerializer
    filterset_class = ObligationFilter
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {
        "list": Scope.OBLIGATION_READ,
        "retrieve": Scope.OBLIGATION_READ,
        "create": Scope.OBLIGATION_SUBMIT,
        "submit": Scope.OBLIGATION_SUBMIT,
        "waive": Scope.OBLIGATION_WAIVE,
        "anchor": Scope.OBLIGATION_SUBMIT,
        "copy": Scope.OBLIGATION_READ,  # whoever sees the obligation
    }

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body: an attached copy streams to disk, hashed and counted.
        if request.method == "POST":
            request.upload_handlers = [HashingUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    def scoped_queryset(self):
        return selectors.obligation_list(access=self.access)

    def _reloaded(self, obligation):
        return self.get_serializer(self.get_queryset().get(pk=obligation.pk)).data

    @extend_schema(request=ObligationCreateSerializer, responses={201: ObligationSerializer})
    def create(self, request):
        serializer = ObligationCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        obligation = services.obligation_create(
            actor=request.user, access=self.access, **serializer.validated_data
        )
        return Response(self._reloaded(obligation), status=status.HTTP_201_CREATED)

    @extend_schema(
        # Multipart, which can carry the copy; one media type, so that generated clients work.
        request={"multipart/form-data": ObligationSubmitSerializer},
        responses={
            200: ObligationSerializer,
            413: OpenApiResponse(description="Copy over EVIDENCE_MAX_BYTES."),
        },
    )
    @accepts_upload
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Record the submission (when, reference, to whom, summary, and in multipart an optional `copy`
        of what was sent): pending → submitted, written once; starts the clocks that run from it. 409
        unless pending."""
        obligation = self.get_object()
        serializer = ObligationSubmitSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.obligation_submit(
            actor=request.user, access=self.access, obligation=obligation, **serializer.validated_data
        )
        return Response(self._reloaded(obligation))

    @extend_schema(request=ObligationAnchorSerializer, responses={200: ObligationSerializer})
    @action(detail=True, methods=["post"])
    def anchor(self, request, pk=None):
        """Enter the time the clock runs from, for a step whose anchor is manual (e.g. AU-2), with a
        rationale: sets clock_started_at and due_at. 409 unless pending; 400 if the anchor is not manual."""
        obligation = self.get_object()
        serializer = ObligationAnchorSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.obligation_anchor(
            actor=request.user, access=self.access, obligation=obligation, **serializer.validated_data
        )
        return Response(self._reloaded(obligation))

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="No copy attached."),
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=[OctetStreamRenderer])
    def copy(self, request, pk=None):
        """The attached copy of what was sent, as an attachment."""
        obligation = self.get_object()
        if not obligation.copy_storage_key:
            raise Http404("No copy is attached to this obligation.")
        response = FileResponse(
            copies.copy_storage().open(obligation.copy_storage_key, "rb"),
            content_type="application/octet-stream",
        )
        for name, value in attachment_headers(obligation.copy_name).items():
            response[name] = value
        response["Content-Length"] = str(obligation.copy_size)
        return response

    @extend_schema(request=ObligationWaiveSerializer, responses={200: ObligationSerializer})
    @action(detail=True, methods=["post"])
    def waive(self, request, pk=None):
        """Close without notifying, with a rationale (managers): pending → waived. 409 unless pending."""
        obligation = self.get_object()
        serializer = ObligationWaiveSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.obligation_waive(
            actor=request.user, access=self.access, obligation=obligation, **serializer.validated_data
        )
        return Response(self._reloaded(obligation))


class AuthorityViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, TenantScopedViewSet
):
    """The tenants' authorities per jurisdiction (ISO 27001 A.5.5): members read, tenant admins write."""

    serializer_class = AuthoritySerializer
    filterset_class = AuthorityFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_scopes = {
        "list": Scope.TENANT_READ,
        "retrieve": Scope.TENANT_READ,
        "create": Scope.TENANT_ADMIN,
        "partial_update": Scope.TENANT_ADMIN,
    }

    def get_serializer_class(self):
        return AuthorityCreateSerializer if self.action == "create" else AuthoritySerializer

    def scoped_queryset(self):
        return selectors.authority_list(access=self.access)

    def perform_create(self, serializer):
        serializer.instance = services.authority_create(
            actor=self.request.user, access=self.access, **serializer.validated_data
        )

    @extend_schema(request=AuthoritySerializer, responses={200: AuthoritySerializer})
    def partial_update(self, request, pk=None):
        authority = self.get_object()
        serializer = AuthoritySerializer(authority, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        authority = services.authority_update(
            actor=request.user, access=self.access, authority=authority, **serializer.validated_data
        )
        return Response(AuthoritySerializer(authority).data)
