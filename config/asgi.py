import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

# Django's ASGI handler spools the whole body before any middleware runs: the cap goes around it.
from apps.core.body_limits import BodyLimitASGIMiddleware  # noqa: E402 - needs the settings loaded

application = BodyLimitASGIMiddleware(django_application)
