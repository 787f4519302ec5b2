"""The iCalendar feed behind a person's secret link (no sign-in: calendar apps cannot sign in)."""

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from apps.core.origin import Origin, origin_as
from apps.notifications import feeds


@require_GET
def calendar_feed(request, token: str):
    user = feeds.calendar_feed_resolve(token)
    if user is None:
        raise Http404("No such calendar.")
    with origin_as(Origin(channel="web")):
        body = feeds.calendar_render(user=user)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="vigil.ics"'
    response["Cache-Control"] = "private, no-store"
    return response
