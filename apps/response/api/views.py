from django.shortcuts import get_object_or_404
from rest_framework import mixins

from apps.response import selectors, services
from apps.response.api.filters import IncidentFilter
from apps.response.api.serializers import IncidentGrantSerializer, IncidentSerializer
from apps.tenancy.api.base import AUTHENTICATED, TenantScopedViewSet
from apps.tenancy.roles import Scope


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter
    action_scopes = {"list": AUTHENTICATED, "retrieve": AUTHENTICATED}

    def scoped_queryset(self):
        return selectors.incident_visible(access=self.access)

    def get_object(self):
        incident = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        return selectors.incident_get(access=self.access, actor=self.request.user, incident_id=incident.pk)


class IncidentGrantViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, TenantScopedViewSet
):
    """Need-to-know grants of one incident: who besides the tenant's roles may see or change it."""

    serializer_class = IncidentGrantSerializer
    action_scopes = {
        "list": Scope.INCIDENT_SHARE,
        "create": Scope.INCIDENT_SHARE,
        "destroy": Scope.INCIDENT_SHARE,
    }

    def get_incident(self):
        if not hasattr(self, "_incident"):
            self._incident = get_object_or_404(
                selectors.incident_visible(access=self.access), pk=self.kwargs["incident_pk"]
            )
        return self._incident

    def scoped_queryset(self):
        incident = self.get_incident()
        if not self.access.has_scope(incident.tenant_id, Scope.INCIDENT_SHARE):
            self.permission_denied(self.request, "You may not manage who can see this incident.")
        return selectors.incident_grant_list(incident=incident)

    def perform_create(self, serializer):
        serializer.instance = services.incident_grant(
            actor=self.request.user,
            access=self.access,
            incident=self.get_incident(),
            **serializer.validated_data,
        )

    def create(self, request, *args, **kwargs):
        self.scoped_queryset()  # 404/403 on the incident before validating the body
        return super().create(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.incident_revoke(actor=self.request.user, access=self.access, grant=instance)
