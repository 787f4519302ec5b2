"""Liveness and readiness for load balancers and orchestrators."""

import logging
import sys

from django.db import connection
from django.http import JsonResponse
from django.views.defaults import page_not_found
from django.views.defaults import server_error as default_server_error

from apps.core.readiness import readiness_details
from apps.core.unavailable import unavailable_code, unavailable_response
from config.celery import app as celery_app

logger = logging.getLogger(__name__)


def healthz(request):
    return JsonResponse({"status": "ok"})


def _database_ready() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any failure means "not ready", and is logged
        logger.warning("readiness: database unreachable", exc_info=True)
        return False
    return True


def _broker_ready() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        logger.warning("readiness: broker unreachable", exc_info=True)
        return False
    return True


def readyz(request):
    """503 when the database or the broker is unreachable; `details` (e.g. the outbox) inform, and never
    make it fail (apps/core/readiness.py). Without a database there is nothing to tell them from."""
    checks = {"database": _database_ready(), "broker": _broker_ready()}
    ready = all(checks.values())
    details = readiness_details() if checks["database"] else {}
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks, "details": details},
        status=200 if ready else 503,
    )


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def server_error(request):
    # Raised outside a view (e.g. a middleware saving the session while PostgreSQL restarts): still a 503.
    if code := unavailable_code(sys.exc_info()[1]):
        return unavailable_response(request, code)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return default_server_error(request)
