"""Notification e-mails: one message rendered as plain text and as HTML (multipart/alternative) from
templates/emails/notification.{txt,html}, the HTML autoescaped, its link absolute under SITE_URL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from apps.notifications.choices import NotificationKind


@dataclass(frozen=True)
class RenderedEmail:
    text: str
    html: str


def absolute_url(path: str) -> str:
    """A path of this site as the link a mail client opens (SITE_URL, README "Configuration")."""
    if not path or path.startswith(("https://", "http://")):
        return path
    return settings.SITE_URL + path


def render_email(
    *, kind: str, subject: str, body: str, ask: str, facts: Sequence[tuple[str, str]], link: str
) -> RenderedEmail:
    url = absolute_url(link)
    context = {
        "subject": subject,
        "body": body,
        "ask": ask,
        "facts": list(facts),
        "url": url,
        "link_label": "Open the incident" if "/incidents/" in url else "Open in Vigil",
        "kind_label": dict(NotificationKind.choices).get(kind, kind),
        "preferences_url": absolute_url(reverse("web:preferences")),
    }
    return RenderedEmail(
        text=render_to_string("emails/notification.txt", context).strip() + "\n",
        html=render_to_string("emails/notification.html", context),
    )
