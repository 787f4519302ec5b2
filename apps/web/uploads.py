"""Uploads of the pages stream through the evidence app's handler (hashed on the way to disk, size-capped),
which must be installed before anything reads the body, CSRF's check included."""

from django.middleware.csrf import CsrfViewMiddleware

from apps.core.body_limits import accepts_upload
from apps.core.files import HashingUploadHandler, UploadTooLarge


def _no_view(request):  # pragma: no cover - CsrfViewMiddleware needs a get_response
    return None


def stream_upload(request):
    """Install the streaming handler, then check CSRF (the view is csrf_exempt for this reason only).
    Returns an error response, or None when the request may proceed. Raises UploadTooLarge."""
    request.upload_handlers = [HashingUploadHandler(request)]
    return CsrfViewMiddleware(_no_view).process_view(request, None, (), {})


__all__ = ["UploadTooLarge", "accepts_upload", "stream_upload"]
