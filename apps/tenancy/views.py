"""The server-rendered pages' entry to the tenant context (the web app builds on this mixin)."""

from apps.tenancy.access import Access, access_for
from apps.tenancy.context import activate


def request_access(request) -> Access:
    """The request's one Access, built on first use."""
    if not hasattr(request, "access"):
        request.access = access_for(request.user)
    return request.access


def render_in_context(request, view, *args, **kwargs):
    """Run a view inside the caller's tenant context and render it there too: template responses
    evaluate their querysets while rendering."""
    with activate(request_access(request)):
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
        return response


class TenantScopedViewMixin:
    """Mixed into every page view of apps.web."""

    def dispatch(self, request, *args, **kwargs):
        return render_in_context(request, super().dispatch, *args, **kwargs)
