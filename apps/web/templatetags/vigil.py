"""Display helpers of the pages: deadline countdowns and status/severity badges."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.response.timeline import timeline_label

register = template.Library()

RED_BELOW = timedelta(hours=6)
AMBER_BELOW = timedelta(hours=24)


def _span(delta: timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


@register.simple_tag
def countdown(due_at):
    """{"text", "tone"}: time left until due_at; red under 6 h (or overdue), amber under 24 h, else green."""
    if due_at is None:
        return {"text": _("no deadline"), "tone": "none"}
    left = due_at - timezone.now()
    tone = "red" if left < RED_BELOW else "amber" if left < AMBER_BELOW else "green"
    if left < timedelta(0):
        return {"text": _("overdue by %(span)s") % {"span": _span(left)}, "tone": tone}
    return {"text": _("%(span)s left") % {"span": _span(left)}, "tone": tone}


@register.filter
def filesize(size) -> str:
    size = float(size or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


@register.filter
def timeline_text(entry) -> str:
    """An entry as it reads on the page (apps.response.timeline.timeline_label, as in the API)."""
    return timeline_label(entry)


@register.filter
def humanize_key(value) -> str:
    """`members_by_role` → "Members by role" (the report's record names)."""
    text = str(value).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@register.filter
def is_mapping(value) -> bool:
    return isinstance(value, dict)


@register.filter
def lesson_marks(text) -> str:
    """A lessons-search snippet: the user's text escaped, then the matched words (between **) marked."""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    parts = escape(text or "").split("**")
    marked = "".join(f"<mark>{p}</mark>" if i % 2 else p for i, p in enumerate(parts))
    return mark_safe(marked)  # noqa: S308 - every part was escaped above
