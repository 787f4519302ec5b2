from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from apps.catalog import selectors, services
from apps.catalog.api.filters import CategoryFilter, RegimeFilter
from apps.catalog.api.serializers import (
    CategoryCreateSerializer,
    CategorySerializer,
    CategoryUpdateSerializer,
    RegimeCreateSerializer,
    RegimeSerializer,
    RegimeUpdateSerializer,
)
from apps.tenancy.api.base import TenantScopedViewSet
from apps.tenancy.roles import Scope


class CategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """The incident taxonomy the caller may use: the shipped ENISA/RSIT categories (`tenant` null, read-only)
    and its tenants' own, which tenant administrators create and edit."""

    serializer_class = CategorySerializer
    filterset_class = CategoryFilter
    cursor_ordering = ("code", "id")
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_scopes = {
        # Members of any tenant; outsiders (no membership) work on granted incidents, not the taxonomy.
        "list": Scope.TENANT_READ,
        "retrieve": Scope.TENANT_READ,
        "create": Scope.CATALOG_ADMIN,
        "partial_update": Scope.CATALOG_ADMIN,
    }

    def scoped_queryset(self):
        return selectors.category_visible()

    @extend_schema(request=CategoryCreateSerializer, responses={201: CategorySerializer})
    def create(self, request):
        serializer = CategoryCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        category = services.category_create(
            actor=request.user, access=self.access, **serializer.validated_data
        )
        return Response(self.get_serializer(category).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CategoryUpdateSerializer, responses={200: CategorySerializer})
    def partial_update(self, request, pk=None):
        category = self.get_object()
        serializer = CategoryUpdateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        category = services.category_update(
            actor=request.user, access=self.access, category=category, **serializer.validated_data
        )
        return Response(self.get_serializer(category).data)


class RegimeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """The notification regimes and their deadline steps: the shipped ones (`tenant` null, built from
    deadlines.csv, read-only) and the caller's tenants' own, which tenant administrators create."""

    serializer_class = RegimeSerializer
    filterset_class = RegimeFilter
    cursor_ordering = ("code", "id")
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_scopes = {
        "list": Scope.TENANT_READ,
        "retrieve": Scope.TENANT_READ,
        "create": Scope.TENANT_ADMIN,
        "partial_update": Scope.TENANT_ADMIN,
    }

    def scoped_queryset(self):
        return selectors.regime_visible()

    def _reloaded(self, regime):
        return self.get_serializer(self.get_queryset().get(pk=regime.pk)).data

    @extend_schema(request=RegimeCreateSerializer, responses={201: RegimeSerializer})
    def create(self, request):
        serializer = RegimeCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        regime = services.regime_create(actor=request.user, access=self.access, **serializer.validated_data)
        return Response(self._reloaded(regime), status=status.HTTP_201_CREATED)

    @extend_schema(request=RegimeUpdateSerializer, responses={200: RegimeSerializer})
    def partial_update(self, request, pk=None):
        regime = self.get_object()
        serializer = RegimeUpdateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.regime_update(
            actor=request.user, access=self.access, regime=regime, **serializer.validated_data
        )
        return Response(self._reloaded(regime))
