from rest_framework.permissions import BasePermission


class DenyAll(BasePermission):
    """The default for every endpoint: nothing is reachable unless a view says who may reach it."""

    def has_permission(self, request, view) -> bool:
        return False
