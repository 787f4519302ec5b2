from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from apps.core.api.renderers import OctetStreamRenderer, ZipRenderer
from apps.core.body_limits import accepts_upload
from apps.core.files import HashingUploadHandler, attachment_headers
from apps.evidence import selectors, services
from apps.evidence.api.filters import EvidenceFilter
from apps.evidence.api.serializers import (
    CustodyEventSerializer,
    EvidenceCreateSerializer,
    EvidenceSerializer,
    VerificationSerializer,
)
from apps.evidence.files import evidence_storage
from apps.evidence.package import package_build
from apps.evidence.services import evidence_exported
from apps.response.api.views import IncidentChildViewSet
from apps.tenancy.api.base import AUTHENTICATED, TenantScopedViewSet
from apps.tenancy.roles import Scope


class EvidenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Evidence items. Content never changes once taken in: no PUT, PATCH or DELETE (405); a correction
    is a new item that `supersedes` the old one."""

    serializer_class = EvidenceSerializer
    filterset_class = EvidenceFilter
    cursor_ordering = ("-uploaded_at", "-id")
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {
        "list": AUTHENTICATED,
        "retrieve": AUTHENTICATED,
        # evidence:write in the incident's tenant, or the reporter attaching to its own report: the
        # service decides per object.
        "create": AUTHENTICATED,
        "download": AUTHENTICATED,  # whoever sees the item; every download is on the custody log
        "verify": Scope.EVIDENCE_CUSTODY,
    }

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body: uploads stream to disk, hashed and counted chunk by chunk.
        if request.method == "POST":
            request.upload_handlers = [HashingUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    def scoped_queryset(self):
        evidence = selectors.evidence_list(access=self.access)
        if self.action in ("list", "retrieve"):
            # The representation reads the related ids only: no related rows (issue 7).
            evidence = evidence.select_related(None)
        return evidence

    @accepts_upload
    @extend_schema(
        request={"multipart/form-data": EvidenceCreateSerializer},
        responses={201: EvidenceSerializer, 413: OpenApiResponse(description="Over EVIDENCE_MAX_BYTES.")},
    )
    def create(self, request):
        serializer = EvidenceCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        evidence = services.evidence_add(actor=request.user, access=self.access, **serializer.validated_data)
        created = self.get_queryset().get(pk=evidence.pk)
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], renderer_classes=[OctetStreamRenderer])
    def download(self, request, pk=None):
        """The bytes, as an attachment; the download is recorded on the custody log before they leave."""
        evidence = self.get_object()
        via_grant = evidence.incident_id is not None and not self.access.has_scope(
            evidence.tenant_id, Scope.INCIDENT_READ
        )
        services.evidence_download(actor=request.user, evidence=evidence, via_grant=via_grant)
        response = FileResponse(
            evidence_storage().open(evidence.storage_key, "rb"), content_type="application/octet-stream"
        )
        for name, value in attachment_headers(evidence.original_name).items():
            response[name] = value
        response["Content-Length"] = str(evidence.size)
        return response

    @extend_schema(request=None, responses={200: VerificationSerializer})
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Re-hash the stored bytes against the hash taken at intake; the result goes on the custody log."""
        result = services.evidence_verify(actor=request.user, access=self.access, evidence=self.get_object())
        return Response(VerificationSerializer(result).data)


class CustodyViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, TenantScopedViewSet):
    """An item's chain of custody, oldest first. POST records a transfer, seal, release or return;
    downloads, verifications and exports are recorded by the platform itself."""

    serializer_class = CustodyEventSerializer
    cursor_ordering = ("at", "id")
    action_scopes = {"list": AUTHENTICATED, "create": Scope.EVIDENCE_CUSTODY}

    def get_evidence(self):
        if not hasattr(self, "_evidence"):
            self._evidence = get_object_or_404(
                selectors.evidence_list(access=self.access), pk=self.kwargs["evidence_pk"]
            )
        return self._evidence

    def scoped_queryset(self):
        return selectors.custody_list(evidence=self.get_evidence())

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and "evidence_pk" in self.kwargs:
            context["evidence"] = self.get_evidence()  # whose custody entries name nobody (the serializer)
        return context

    def create(self, request, *args, **kwargs):
        self.get_evidence()  # 404 on the item before validating the body
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.custody_record(
            actor=self.request.user,
            access=self.access,
            evidence=self.get_evidence(),
            **serializer.validated_data,
        )


class EvidencePackageViewSet(IncidentChildViewSet):
    """GET /incidents/{id}/evidence-package/: the incident's evidence as a zip for legal hand-over."""

    serializer_class = EvidenceSerializer
    action_scopes = {"package": Scope.EVIDENCE_CUSTODY}
    # Also as generic bytes, for clients that know no zip (openapi-python-client's generated ones).
    renderer_classes = [ZipRenderer, OctetStreamRenderer]

    def scoped_queryset(self):
        return selectors.incident_evidence(incident=self.get_incident())

    @extend_schema(
        responses={
            (200, ZipRenderer.media_type): OpenApiTypes.BINARY,
            (200, OctetStreamRenderer.media_type): OpenApiTypes.BINARY,
        }
    )
    def package(self, request, incident_pk=None):
        incident = self.get_incident()
        if not self.access.has_scope(incident.tenant_id, Scope.EVIDENCE_CUSTODY):
            self.permission_denied(request, "You may not export this incident's evidence.")
        package = package_build(incident=incident)
        # Recorded once the package is built (so not in it), before its first byte is sent.
        evidence_exported(
            actor=request.user,
            incident=incident,
            items=package.items,
            manifest_sha256=package.manifest_sha256,
        )
        response = StreamingHttpResponse(package.stream(), content_type=request.accepted_renderer.media_type)
        response["Content-Disposition"] = f'attachment; filename="evidence-{incident.reference}.zip"'
        response["X-Manifest-SHA256"] = package.manifest_sha256
        response["X-Audit-Extract-SHA256"] = package.audit_sha256
        response["X-Content-Type-Options"] = "nosniff"
        return response
