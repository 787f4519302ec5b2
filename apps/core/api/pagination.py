"""The API's pagination classes. Every number a client sends here is parsed once, bounded (apps/core/api/
integers.py): no page parameter reaches PostgreSQL out of its range (issue 14, "no parameter answers 5xx")."""

from django.core.exceptions import FieldDoesNotExist, ValidationError
from rest_framework import pagination
from rest_framework.exceptions import NotFound

from apps.core.api.integers import MAX_OFFSET, query_integer


class CursorPagination(pagination.CursorPagination):
    """Keyset pagination: constant cost at any depth, no COUNT(*) over large tables."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")

    def get_ordering(self, request, queryset, view):
        # Each endpoint names a stable keyset ordering; newest first by default.
        return getattr(view, "cursor_ordering", self.ordering)

    def paginate_queryset(self, queryset, request, view=None):
        self._queryset_model = getattr(queryset, "model", None)
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        """A cursor is opaque, but it is client input: its position must be a value of the ordering field
        (a cursor crafted with `p=<anything>` used to reach the database as is), else 404 "Invalid cursor"
        as for any cursor that does not decode."""
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None or getattr(self, "_queryset_model", None) is None:
            return cursor
        try:
            field = self._queryset_model._meta.get_field(self.ordering[0].lstrip("-"))
        except FieldDoesNotExist:
            return cursor
        try:
            field.get_prep_value(field.to_python(cursor.position))
        except (ValidationError, TypeError, ValueError, OverflowError):
            raise NotFound(self.invalid_cursor_message) from None
        return cursor


class OffsetPagination(pagination.LimitOffsetPagination):
    """Offset paging (ranked search hits) with a bounded `offset`: an offset past MAX_OFFSET, negative or not
    a number is 400 naming `offset` (it used to reach PostgreSQL's bigint as is: a 500)."""

    max_offset = MAX_OFFSET

    def get_offset(self, request):
        return query_integer(
            request.query_params.get(self.offset_query_param),
            name=self.offset_query_param,
            default=0,
            minimum=0,
            maximum=self.max_offset,
        )

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.offset_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 0, "maximum": self.max_offset}
        return parameters
