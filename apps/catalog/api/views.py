from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from apps.catalog import selectors, services
from apps.catalog.api.filters import CategoryFilter
from apps.catalog.api.serializers import (
    CategoryCreateSerializer,
    CategorySerializer,
    CategoryUpdateSerializer,
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
