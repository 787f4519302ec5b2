"""DRF's read representation, compiled once per serializer instead of walked field by field for every row.

`ModelSerializer.to_representation` costs about 2 µs per field per row (attribute walking, PKOnlyObject,
`enforce_timezone` looking the current time zone up again for every datetime); for a page of 50 incidents
of 32 fields that is most of a list request's time (bench/, issue 7). `FastRepresentationMixin` builds, on
the first row, one getter per readable field that returns exactly what the DRF field would (same values,
same types: UUIDs stay UUIDs for the renderer) for the field kinds it knows, and defers to the DRF field
for any other kind. tests/test_fast_representation.py checks the output equals DRF's field by field.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.utils import timezone
from rest_framework import fields, relations
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

# Field classes whose to_representation is the value itself (or str() of it) for the model values they hold.
_AS_IS = (fields.BooleanField, fields.IntegerField)


def _plain_attribute(field) -> str | None:
    """The model attribute a field reads, when it reads one attribute of the instance directly."""
    if field.source == "*" or len(field.source_attrs) != 1:
        return None
    return field.source_attrs[0]


def _getter(field) -> Callable:
    attribute = _plain_attribute(field)
    kind = type(field)
    if isinstance(field, fields.SerializerMethodField):
        method = getattr(field.parent, field.method_name)
        return method
    if attribute is not None and kind is relations.PrimaryKeyRelatedField and field.pk_field is None:
        attname = field.parent.Meta.model._meta.get_field(attribute).attname
        return lambda instance: getattr(instance, attname)
    if attribute is not None and kind is fields.DateTimeField and not hasattr(field, "timezone"):
        output_format = getattr(field, "format", fields.empty)
        if output_format is fields.empty:
            from rest_framework.settings import api_settings

            output_format = api_settings.DATETIME_FORMAT
        if output_format and output_format.lower() == "iso-8601":
            current = timezone.get_current_timezone()

            def datetime_value(instance):
                value = getattr(instance, attribute)
                if not value:
                    return None
                if timezone.is_aware(value):
                    value = value.astimezone(current)
                else:
                    return field.to_representation(value)
                text = value.isoformat()
                return text[:-6] + "Z" if text.endswith("+00:00") else text

            return datetime_value
    if attribute is not None and kind is fields.UUIDField and field.uuid_format == "hex_verbose":

        def uuid_value(instance):
            value = getattr(instance, attribute)
            return None if value is None else str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))

        return uuid_value
    if attribute is not None and kind is fields.CharField:

        def char_value(instance):
            value = getattr(instance, attribute)
            return None if value is None else str(value)

        return char_value
    if attribute is not None and kind is fields.ChoiceField:
        choices = field.choice_strings_to_values

        def choice_value(instance):
            value = getattr(instance, attribute)
            if value in ("", None):
                return value
            return choices.get(str(value), value)

        return choice_value
    if attribute is not None and kind in _AS_IS:
        convert = bool if kind is fields.BooleanField else int

        def as_is(instance):
            value = getattr(instance, attribute)
            return None if value is None else convert(value)

        return as_is
    if attribute is not None and kind is fields.ListField and type(field.child) is fields.CharField:

        def list_value(instance):
            value = getattr(instance, attribute)
            if value is None:
                return None
            return [None if item is None else str(item) for item in value]

        return list_value
    return lambda instance: _drf(field, instance)


def _drf(field, instance):
    """Serializer.to_representation's loop body for one field (the fallback)."""
    attribute = field.get_attribute(instance)
    check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
    if check_for_none is None:
        return None
    return field.to_representation(attribute)


class FastRepresentationMixin:
    """For ModelSerializers whose output is read often (the incident list and detail)."""

    def _representation_plan(self) -> list[tuple[str, Callable]]:
        plan = self.__dict__.get("_fast_plan")
        if plan is None:
            plan = self.__dict__["_fast_plan"] = [
                (field.field_name, _getter(field)) for field in self._readable_fields
            ]
        return plan

    def to_representation(self, instance):
        data = {}
        for name, getter in self._representation_plan():
            try:
                data[name] = getter(instance)
            except SkipField:
                continue
        return data
