from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Keyset pagination: constant cost at any depth, no COUNT(*) over large tables."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")

    def get_ordering(self, request, queryset, view):
        # Each endpoint names a stable keyset ordering; newest first by default.
        return getattr(view, "cursor_ordering", self.ordering)
