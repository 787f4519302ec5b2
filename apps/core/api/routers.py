from rest_framework.routers import DefaultRouter


class Router(DefaultRouter):
    """Trailing slashes as in the contract; no browsable root listing (it would list every endpoint)."""

    include_root_view = False
