from apps.core.origin import Origin, origin_as
from apps.core.unavailable import log_unavailable, unavailable_code, unavailable_response


def _channel(path: str) -> str:
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "web"


class RequestOriginMiddleware:
    """Records channel, client address and user agent of the request for the audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        origin = Origin(
            channel=_channel(request.path),
            ip=request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        )
        with origin_as(origin):
            return self.get_response(request)


class ServiceUnavailableMiddleware:
    """A view that failed because PostgreSQL (or Redis) is unreachable answers 503 with Retry-After, not 500:
    JSON under /api/, a plain page elsewhere (apps/core/unavailable.py). This catches what escapes the API's
    exception handler too: the request's transaction failing to begin or to commit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        code = unavailable_code(exception)
        if code is None:
            return None
        log_unavailable(request, code, exception)
        return unavailable_response(request, code)
