from rest_framework import serializers
from rest_framework.fields import empty


class StrictSerializerMixin:
    """Rejects fields the endpoint does not know, so a misspelt field never silently does nothing. A boolean
    left out of a form or multipart body means its default (or "required"), exactly as in JSON: DRF reads
    an absent HTML checkbox as False, but API clients (the generated one sends multipart) omit unset fields.
    """

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            if isinstance(field, serializers.BooleanField):
                field.default_empty_html = empty
        return fields

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data.keys()) - writable)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown or read-only field."] for name in unknown})
        return super().to_internal_value(data)


class StrictSerializer(StrictSerializerMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    pass
