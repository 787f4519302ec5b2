from rest_framework import serializers

from apps.catalog.models import Category
from apps.catalog.selectors import category_visible
from apps.core.api.fields import ScopedPrimaryKeyRelatedField
from apps.core.api.serializers import StrictSerializer
from apps.tenancy.selectors import tenant_list


def _categories(access):
    return category_visible()


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "code", "name", "description", "tenant", "parent", "is_active"]
        read_only_fields = fields


class CategoryCreateSerializer(StrictSerializer):
    tenant = ScopedPrimaryKeyRelatedField(lambda access: tenant_list(access=access))
    code = serializers.SlugField(max_length=80)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    parent = ScopedPrimaryKeyRelatedField(_categories, required=False, allow_null=True, default=None)


class CategoryUpdateSerializer(StrictSerializer):
    """PATCH: the code and the tenant are fixed once created."""

    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    parent = ScopedPrimaryKeyRelatedField(_categories, required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)
