"""A backing service that is down answers 503, never 500 (issue 8, "Faults survived").

PostgreSQL restarting, or unreachable: every request that needs it fails with 503 and `Retry-After` (a JSON
body on the API, a plain page on the web) and the app recovers by itself once it is back (Django reconnects:
CONN_HEALTH_CHECKS, and a connection that raised is closed at the end of its request). Each API request runs
in one transaction, so a request that failed wrote nothing (should the connection break during the commit
itself, the outcome is unknown to the client: a retry with the same Idempotency-Key replays the answer).

Redis unreachable: the outbox keeps messages until the broker is back (design rule 8), the API's rate
throttles let requests through rather than fail them (apps/core/api/throttling.py), and what cannot work
without the cache (the token endpoint's brute-force lock) answers 503 `cache_unavailable`.

Used by the API's exception handler (apps/core/api/exceptions.py), by DatabaseUnavailableMiddleware for
whatever escapes a view, and by the 500 handler for what fails in other middleware.
"""

from __future__ import annotations

import logging

import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
DETAIL = "Service temporarily unavailable"
DATABASE_UNAVAILABLE = "database_unavailable"
CACHE_UNAVAILABLE = "cache_unavailable"

# OperationalError: the connection failed or broke (server restarting, refused, terminated, timed out) or
# the server cancelled the statement; InterfaceError: the connection was already closed. All are transient.
DATABASE_ERRORS = (OperationalError, InterfaceError)
CACHE_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def unavailable_code(exc: BaseException | None) -> str | None:
    """`database_unavailable` / `cache_unavailable` when `exc` means a backing service is unreachable."""
    if isinstance(exc, DATABASE_ERRORS):
        return DATABASE_UNAVAILABLE
    if isinstance(exc, CACHE_ERRORS):
        return CACHE_UNAVAILABLE
    return None


def log_unavailable(request, code: str, exc: BaseException) -> None:
    logger.warning("%s on %s %s: %s", code, request.method, request.path, str(exc).strip()[:500])


def unavailable_response(request, code: str) -> HttpResponse:
    """503 with Retry-After: JSON under /api/, a plain page (no database, no session) elsewhere."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": DETAIL, "code": code}, status=503)
    else:
        # Rendered without the request: context processors would look up the session's user.
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
