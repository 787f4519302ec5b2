from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from apps.core.api.renderers import CSVRenderer
from apps.response import actions, selectors, services, timeline
from apps.response.api.filters import IncidentFilter
from apps.response.api.serializers import (
    IncidentDeclareSerializer,
    IncidentGrantSerializer,
    IncidentSerializer,
    IncidentUpdateSerializer,
    ResponseActionCreateSerializer,
    ResponseActionSerializer,
    TimelineEntrySerializer,
    TransitionConflictSerializer,
    TransitionSerializer,
)
from apps.response.export import incident_csv_chunks
from apps.response.models import Incident
from apps.tenancy.api.base import AUTHENTICATED, TenantScopedViewSet
from apps.tenancy.context import current_context, iterate_within
from apps.tenancy.roles import Scope


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_scopes = {
        "list": AUTHENTICATED,
        "retrieve": AUTHENTICATED,
        "create": Scope.INCIDENT_DECLARE,
        "partial_update": AUTHENTICATED,  # a granted outsider may edit; the service decides field by field
        "transition": Scope.INCIDENT_TRANSITION,
        "export": AUTHENTICATED,
    }

    def scoped_queryset(self):
        if self.action == "list":
            incidents = selectors.incident_list(access=self.access)
        else:
            incidents = selectors.incident_visible(access=self.access)
        if self.action in ("list", "retrieve"):
            # The representation reads the tenant, owner and category ids only: no joins (issue 7).
            incidents = incidents.select_related(None)
        return selectors.with_team_ids(incidents)

    def get_object(self):
        # One query: incident_get reads through the same visibility rule (404 for anything else).
        try:
            return selectors.incident_get(
                access=self.access,
                actor=self.request.user,
                incident_id=self.kwargs["pk"],
                visible=self.get_queryset(),
            )
        except (Incident.DoesNotExist, TypeError, ValueError, DjangoValidationError):
            raise Http404 from None

    def _reloaded(self, incident):
        return self.get_serializer(self.get_queryset().get(pk=incident.pk)).data

    @extend_schema(request=IncidentDeclareSerializer, responses={201: IncidentSerializer})
    def create(self, request):
        serializer = IncidentDeclareSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        incident = services.incident_declare(
            actor=request.user, access=self.access, **serializer.validated_data
        )
        return Response(self._reloaded(incident), status=status.HTTP_201_CREATED)

    @extend_schema(request=IncidentUpdateSerializer, responses={200: IncidentSerializer})
    def partial_update(self, request, pk=None):
        incident = self.get_object()
        serializer = IncidentUpdateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.incident_update(
            actor=request.user,
            access=self.access,
            incident=incident,
            granted_change=incident.granted_change,
            **serializer.validated_data,
        )
        return Response(self._reloaded(incident))

    @extend_schema(responses={(200, CSVRenderer.media_type): OpenApiTypes.STR}, filters=True)
    @action(detail=False, methods=["get"], renderer_classes=[CSVRenderer])
    def export(self, request):
        """The filtered incident list as CSV (same filters and visibility as the list)."""
        incidents = self.filter_queryset(self.get_queryset()).order_by("-declared_at", "-id")
        # The body streams after this request's tenant context has closed: each chunk is read from the
        # server-side cursor with the context entered again (outside it the database shows nothing).
        rows = incident_csv_chunks(incidents.prefetch_related(None).iterator(chunk_size=2000))
        body = iterate_within(current_context(), rows)
        response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="incidents.csv"'
        return response

    @extend_schema(
        request=TransitionSerializer, responses={200: IncidentSerializer, 409: TransitionConflictSerializer}
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the incident along its lifecycle. 409 with the reason when the move is not allowed now; a
        close with open response actions needs `open_actions` (and `reason` to cancel them)."""
        incident = self.get_object()
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.incident_transition(
            actor=request.user, access=self.access, incident=incident, **serializer.validated_data
        )
        return Response(self._reloaded(incident))


class IncidentChildViewSet(TenantScopedViewSet):
    """Base of the endpoints under /incidents/{id}/: the incident is resolved through the same
    visibility rule as the incident itself, in full (Need.FULL): an incident seen as a summary only has
    no children to show, and answers 404 exactly like an unknown one."""

    def get_incident(self):
        if not hasattr(self, "_incident"):
            self._incident = get_object_or_404(
                selectors.incident_visible(access=self.access, need=selectors.Need.FULL),
                pk=self.kwargs["incident_pk"],
            )
        return self._incident


class TimelineViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, IncidentChildViewSet):
    """The incident's timeline, oldest first: automatic entries and manual observations/communications."""

    serializer_class = TimelineEntrySerializer
    cursor_ordering = ("at", "id")
    action_scopes = {"list": AUTHENTICATED, "create": Scope.INCIDENT_WRITE}

    def scoped_queryset(self):
        return selectors.timeline_list(incident=self.get_incident())

    def perform_create(self, serializer):
        serializer.instance = timeline.timeline_entry_add(
            actor=self.request.user,
            access=self.access,
            incident=self.get_incident(),
            **serializer.validated_data,
        )


class ResponseActionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    IncidentChildViewSet,
):
    serializer_class = ResponseActionSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_scopes = {
        "list": AUTHENTICATED,
        "retrieve": AUTHENTICATED,
        "create": Scope.INCIDENT_WRITE,
        "partial_update": Scope.INCIDENT_WRITE,
    }

    def get_serializer_class(self):
        return ResponseActionCreateSerializer if self.action == "create" else ResponseActionSerializer

    def scoped_queryset(self):
        return selectors.action_list(incident=self.get_incident())

    def perform_create(self, serializer):
        serializer.instance = actions.action_create(
            actor=self.request.user,
            access=self.access,
            incident=self.get_incident(),
            **serializer.validated_data,
        )

    def perform_update(self, serializer):
        serializer.instance = actions.action_update(
            actor=self.request.user,
            access=self.access,
            action=serializer.instance,
            **serializer.validated_data,
        )


class IncidentGrantViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, IncidentChildViewSet
):
    """Need-to-know grants of one incident: who besides the tenant's roles may see or change it."""

    serializer_class = IncidentGrantSerializer
    action_scopes = {
        "list": Scope.INCIDENT_SHARE,
        "create": Scope.INCIDENT_SHARE,
        "destroy": Scope.INCIDENT_SHARE,
    }

    def scoped_queryset(self):
        incident = self.get_incident()
        if not self.access.has_scope(incident.tenant_id, Scope.INCIDENT_SHARE):
            self.permission_denied(self.request, "You may not manage who can see this incident.")
        return selectors.incident_grant_list(incident=incident)

    def create(self, request, *args, **kwargs):
        self.scoped_queryset()  # 404/403 on the incident before validating the body
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.incident_grant(
            actor=self.request.user,
            access=self.access,
            incident=self.get_incident(),
            **serializer.validated_data,
        )

    def perform_destroy(self, instance):
        services.incident_revoke(actor=self.request.user, access=self.access, grant=instance)
