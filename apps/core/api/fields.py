from rest_framework import serializers


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related id resolved only among the objects the caller may see: another tenant's id is
    indistinguishable from a missing one ("does not exist"), never a leak."""

    def __init__(self, scoped_queryset, **kwargs):
        self.scoped_queryset = scoped_queryset
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.scoped_queryset(self.context["access"])
