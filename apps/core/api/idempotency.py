"""`Idempotency-Key` on POST: the same key from the same caller within 24 h replays the first response."""

import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http.request import RawPostDataException
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.response import Response

from apps.core.errors import Conflict
from apps.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _fingerprint(request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    try:
        digest.update(request._request.body)
    except RawPostDataException:  # multipart streamed to disk: fingerprint the parsed form instead
        for name in sorted(request.data.keys()):
            value = request.data[name]
            token = f"{value.name}:{value.size}" if hasattr(value, "size") else str(value)
            digest.update(f"{name}={token}\n".encode())
    return digest.hexdigest()


def claim(request) -> IdempotencyRecord | Response | None:
    """Inside the request's transaction: a new record to complete, a stored response to replay, or None."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None or not request.user.is_authenticated:
        return None
    if not key or len(key) > MAX_KEY_LENGTH:
        raise exceptions.ValidationError({HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} characters."]})
    fingerprint = _fingerprint(request)
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    IdempotencyRecord.objects.filter(user=request.user, key=key, created_at__lt=cutoff).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                user=request.user,
                key=key,
                method=request.method,
                path=request.path,
                request_fingerprint=fingerprint,
            )
    except IntegrityError:
        # A first request with this key committed (a concurrent one waited on the unique index until then).
        record = IdempotencyRecord.objects.get(user=request.user, key=key)
    if record.request_fingerprint != fingerprint:
        raise exceptions.ValidationError({HEADER: ["This key was already used for a different request."]})
    if record.status_code is None:
        raise Conflict("A request with this Idempotency-Key is still being processed.")
    return Response(record.response_body, status=record.status_code, headers={"Idempotent-Replayed": "true"})


def complete(record: IdempotencyRecord, response: Response) -> None:
    record.status_code = response.status_code
    record.response_body = json.loads(json.dumps(response.data, default=str))
    record.save(update_fields=["status_code", "response_body"])
