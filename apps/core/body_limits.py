"""Request bodies are capped per endpoint, before anything reads or spools them (issue 14).

Django parses a multipart body lazily, on the first read of `request.POST` / `request.FILES` / DRF's
`request.data` (CSRF's check reads it too), and streams every file part to a temporary file on disk:
`DATA_UPLOAD_MAX_MEMORY_SIZE` caps the form fields only, never the files. Without a cap, any endpoint, the
anonymous sign-in page included, would spool a body of any size to the temp dir.

The rule, in one place: every request body may be at most `REQUEST_BODY_MAX_BYTES` (1 MiB by default), except
on the handlers marked `@accepts_upload` (evidence, a report's attachment, the copy of a submitted notice),
which take EVIDENCE_MAX_BYTES plus room for the form around the file (their files stream, hashed, to their
own spool dir EVIDENCE_UPLOAD_TEMP_DIR and are refused past EVIDENCE_MAX_BYTES: apps/core/files.py).
Over it: 413 with a JSON body under /api/, a short page elsewhere.

- `RequestBodyLimitMiddleware` (first in MIDDLEWARE; WSGI, i.e. gunicorn) checks the declared Content-Length
  as soon as the view is known (`process_view`, before CSRF's reads the form). Django's WSGI request reads
  at most Content-Length bytes of the stream (its LimitedStream), and none without one: a chunked body
  beyond the check is never read, let alone spooled.
- `BodyLimitASGIMiddleware` (config/asgi.py) does the same for ASGI servers, whose Django handler reads and
  spools the whole body before any middleware runs: it counts the `http.request` messages as they arrive.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.html import escape

from apps.core.files import FORM_OVERHEAD

TOO_LARGE_CODE = "request_too_large"


def accepts_upload(handler):
    """Marks a view handler (a DRF action, a class-based view's `post`, a function view) that takes a file
    upload: its body may reach upload_request_limit() instead of REQUEST_BODY_MAX_BYTES."""
    handler.accepts_upload = True
    return handler


def _handler(view_func, method: str):
    """The function that answers `method` on `view_func` (as resolved from the URL)."""
    actions = getattr(view_func, "actions", None)  # a DRF viewset: method → action name
    if actions is not None:
        name = actions.get(method.lower())
        return getattr(view_func.cls, name, None) if name else None
    view_class = getattr(view_func, "view_class", None) or getattr(view_func, "cls", None)
    if view_class is not None:
        return getattr(view_class, method.lower(), None)
    return view_func


def upload_request_limit() -> int:
    """The body limit of an upload: the file's limit (EVIDENCE_MAX_BYTES) and room for the form around it."""
    return settings.EVIDENCE_MAX_BYTES + FORM_OVERHEAD


def body_limit(view_func, method: str) -> int:
    """The largest request body, in bytes, that `method` on this view accepts."""
    if getattr(_handler(view_func, method), "accepts_upload", False):
        return upload_request_limit()
    return settings.REQUEST_BODY_MAX_BYTES


def body_limit_for_path(path: str, method: str) -> int:
    """body_limit for a path not resolved yet (the ASGI layer); an unknown path gets the default."""
    try:
        match = resolve(path)
    except Resolver404:
        return settings.REQUEST_BODY_MAX_BYTES
    return body_limit(match.func, method)


def declared_length(value: str | bytes | None) -> int | None:
    """The Content-Length as a number; None when absent or unreadable (Django then reads no body)."""
    try:
        length = int(value) if value not in (None, "", b"") else None
    except (TypeError, ValueError):
        return None
    return length if length is not None and length >= 0 else None


def too_large_response(path: str, limit: int) -> HttpResponse:
    """413: `{"detail", "code", "limit"}` under /api/, a short plain page elsewhere. No database, no session,
    no template context: it answers before the request is authenticated."""
    detail = f"The request body is larger than the {limit}-byte limit of this endpoint."
    if path.startswith("/api/"):
        response = JsonResponse({"detail": detail, "code": TOO_LARGE_CODE, "limit": limit}, status=413)
    else:
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Request too large</title>'
            f"</head><body><h1>Request too large</h1><p>{escape(detail)}</p></body></html>"
        )
        response = HttpResponse(page, status=413, content_type="text/html; charset=utf-8")
    # The rest of the body is not read: the connection cannot carry another request.
    response["Connection"] = "close"
    response["Cache-Control"] = "no-store"
    return response


class RequestBodyLimitMiddleware:
    """First in MIDDLEWARE: nothing before it reads the body, and its process_view runs before CSRF's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        limit = body_limit(view_func, request.method)
        length = declared_length(request.META.get("CONTENT_LENGTH"))
        if length is not None and length > limit:
            return too_large_response(request.path, limit)
        return None


class BodyLimitASGIMiddleware:
    """Wraps Django's ASGI application, whose handler reads and spools the whole body before any middleware
    runs: a declared length over the limit answers 413 at once; a body that arrives in more bytes than the
    limit (chunked, or longer than it declared) is cut off with 413 as soon as it passes the limit (Django's
    handler is told the client went away, and drops what it spooled)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope.get("path", "/"), scope.get("method", "GET")
        limit = await _limit_for(path, method)
        length = declared_length(dict(scope.get("headers") or []).get(b"content-length"))
        if length is not None and length > limit:
            return await _send_response(send, too_large_response(path, limit))
        received = 0
        cut_off = False

        async def counted():
            nonlocal received, cut_off
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    cut_off = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted, send)
        if cut_off:
            await _send_response(send, too_large_response(path, limit))
        return None


async def _limit_for(path: str, method: str) -> int:
    return await sync_to_async(body_limit_for_path, thread_sensitive=False)(path, method)


async def _send_response(send, response: HttpResponse) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.items()]
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.content})
