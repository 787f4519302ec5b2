from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_choice_field
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


class RecordedChoiceField(serializers.ChoiceField):
    """Accepts the `choices` people may send; shows any of `recorded`, the values the platform writes itself
    included (e.g. a custody log's downloads, a timeline's automatic entries)."""

    def __init__(self, *, choices, recorded, **kwargs):
        self.recorded = recorded
        super().__init__(choices=choices, **kwargs)

    def to_representation(self, value):
        return str(value)


class RecordedChoiceFieldSchema(OpenApiSerializerFieldExtension):
    """The schema says the same as the field: what is accepted in requests, every value in responses (a
    generated client refuses to read a value its enum does not have)."""

    target_class = RecordedChoiceField

    def map_serializer_field(self, auto_schema, direction):
        choices = list(self.target.choices.items()) if direction == "request" else self.target.recorded
        return build_choice_field(serializers.ChoiceField(choices=choices))
