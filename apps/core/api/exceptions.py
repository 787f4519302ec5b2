"""One error shape for the whole API: 4xx with a JSON body that names the problem, never a 500 for input."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.errors import Conflict
from apps.core.unavailable import DETAIL, RETRY_AFTER_SECONDS, log_unavailable, unavailable_code


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"

    @classmethod
    def of(cls, conflict: Conflict) -> "ConflictError":
        """`{"detail": ..., "code": ...}` (`conflict` unless the service named the state), with the conflict's
        details beside them as they are (JSON values): every 409 carries a code clients can branch on."""
        error = cls(str(conflict))
        error.detail = {"detail": error.detail, "code": conflict.code or cls.default_code, **conflict.details}
        return error


class ServiceUnavailable(exceptions.APIException):
    """503 `{"detail": "Service temporarily unavailable", "code": ...}` with Retry-After: the database (or
    the cache) is unreachable; the request wrote nothing and may be retried (apps/core/unavailable.py)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"

    def __init__(self, code: str):
        super().__init__({"detail": DETAIL, "code": code}, code)
        self.wait = RETRY_AFTER_SECONDS  # DRF's handler turns it into Retry-After


def _django_validation_error_detail(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()
        }
    return {"detail": " ".join(exc.messages)}


def exception_handler(exc, context):
    if unavailable := unavailable_code(exc):
        log_unavailable(context["request"], unavailable, exc)
        exc = ServiceUnavailable(unavailable)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_error_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)  # keep the service's reason
    elif isinstance(exc, Conflict):
        exc = ConflictError.of(exc)
    elif isinstance(exc, IntegrityError):
        # Services validate first; this only answers a race with another writer.
        exc = ConflictError("The change conflicts with existing data; reload and try again.")
    # DRF's handler rolls back ATOMIC_REQUESTS transactions; TenantScopedViewSet.dispatch rolls back its own
    # on any 4xx. Marking whatever atomic block happens to be open (a caller's, a test's) is not ours to do.
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        response.data = {"detail": response.data}
    return response
