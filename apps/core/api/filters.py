"""Filters shared by every app's API."""

from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC before it reaches the database.

    Python accepts UTC offsets up to ±23:59, PostgreSQL only up to ±15:59: an offset in between used to be
    a database error (a 500) instead of a plain comparison. In UTC every offset compares correctly, and a
    moment that lies outside the representable years once in UTC is refused as invalid input."""

    default_error_messages = {"overflow": "This date-time is out of range."}

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["overflow"], code="overflow") from None


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField
