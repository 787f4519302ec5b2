from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action

from apps.audit import checkpoints, keys, selectors
from apps.audit.api.filters import AuditCheckpointFilter, AuditEntryFilter
from apps.audit.api.serializers import AuditCheckpointSerializer, AuditEntrySerializer
from apps.core.api.renderers import OctetStreamRenderer
from apps.core.files import attachment_headers
from apps.tenancy.api.base import TenantScopedViewSet
from apps.tenancy.roles import Scope


class AuditEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """The audit trail, read-only: there is no write path to it but the domain events."""

    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilter
    cursor_ordering = ("-id",)
    action_scopes = {"list": Scope.AUDIT_READ, "retrieve": Scope.AUDIT_READ}

    def scoped_queryset(self):
        return selectors.audit_entry_list(access=self.access)


def _file(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/octet-stream")
    for header, value in attachment_headers(name).items():
        response[header] = value
    return response


class AuditCheckpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Signed checkpoints of the audit chains (README, "Audit trail"): for auditors to verify offline."""

    serializer_class = AuditCheckpointSerializer
    filterset_class = AuditCheckpointFilter
    cursor_ordering = ("-id",)
    action_scopes = {
        "list": Scope.AUDIT_READ,
        "retrieve": Scope.AUDIT_READ,
        "document": Scope.AUDIT_READ,
        "signature": Scope.AUDIT_READ,
        "public_key": Scope.AUDIT_READ,
    }

    def scoped_queryset(self):
        return checkpoints.audit_checkpoint_list(access=self.access)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], renderer_classes=[OctetStreamRenderer])
    def document(self, request, pk=None):
        """The signed document, byte for byte (checkpoint.json)."""
        head = self.get_object()
        return _file(head.checkpoint.encode(), f"{checkpoints.file_stem(head)}.json")

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], renderer_classes=[OctetStreamRenderer])
    def signature(self, request, pk=None):
        """The raw 64-byte Ed25519 signature of the document (checkpoint.sig)."""
        head = self.get_object()
        return _file(bytes.fromhex(head.signature), f"{checkpoints.file_stem(head)}.sig")

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=False, methods=["get"], url_path="public-key", renderer_classes=[OctetStreamRenderer])
    def public_key(self, request):
        """The public key that verifies every checkpoint (PEM, pub.pem)."""
        return _file(keys.public_key_pem(), "pub.pem")
