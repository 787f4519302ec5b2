from rest_framework import mixins

from apps.audit import selectors
from apps.audit.api.filters import AuditEntryFilter
from apps.audit.api.serializers import AuditEntrySerializer
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
