"""The caller's own notification centre (mark read), their channel preferences and their calendar link.
Everything here is the signed-in person's own: another person's notification answers 404."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from apps.notifications.feeds import calendar_feed_get, calendar_feed_rotate, feed_path
from apps.notifications.inbox import notification_list, notification_mark_read
from apps.notifications.models import Notification
from apps.notifications.preferences import preference_list, preference_set
from apps.web.views.base import PageMixin


def unread_count(access) -> int:
    return notification_list(access=access).filter(read_at__isnull=True).count()


class NotificationCentreView(PageMixin, TemplateView):
    template_name = "web/notifications.html"
    section = "notifications"
    title = "Notifications"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        items = notification_list(access=self.access).select_related("incident")
        show = self.request.GET.get("show", "all")
        if show == "unread":
            items = items.filter(read_at__isnull=True)
        context.update(
            page=Paginator(items.order_by("-created_at", "-id"), 30).get_page(self.request.GET.get("page")),
            show=show,
        )
        return context


class NotificationReadView(PageMixin, TemplateView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        try:
            notification = notification_list(access=self.access).get(pk=self.kwargs["notification_id"])
        except Notification.DoesNotExist:
            raise Http404 from None
        notification_mark_read(notification=notification)
        target = request.POST.get("open")
        if target and notification.link and notification.link.startswith("/"):
            return redirect(notification.link)
        if target and notification.incident_id:
            return redirect(reverse("web:incident", args=[notification.incident_id]))
        return redirect(reverse("web:notifications") + f"#n-{notification.pk}")


class NotificationReadAllView(PageMixin, TemplateView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        unread = notification_list(access=self.access).filter(read_at__isnull=True)
        count = 0
        for notification in unread[:500]:
            notification_mark_read(notification=notification)
            count += 1
        messages.success(request, _("%(n)d notifications marked as read.") % {"n": count})
        return redirect("web:notifications")


class PreferencesView(PageMixin, TemplateView):
    template_name = "web/preferences.html"
    section = "notifications"
    title = "Notification preferences"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        feed = calendar_feed_get(user=self.request.user)
        context.update(
            preferences=preference_list(user=self.request.user),
            feed_url=self.request.build_absolute_uri(feed_path(feed)),
            feed=feed,
        )
        return context

    def post(self, request, *args, **kwargs):
        field = forms.BooleanField(required=False)
        changed = 0
        for pref in preference_list(user=request.user):
            in_app = field.clean(request.POST.get(f"{pref.kind}:in_app"))
            email = field.clean(request.POST.get(f"{pref.kind}:email"))
            if pref.critical:
                continue  # never silenced: the form shows them as fixed
            if (in_app, email) != (pref.in_app, pref.email):
                preference_set(
                    actor=request.user, user=request.user, kind=pref.kind, in_app=in_app, email=email
                )
                changed += 1
        messages.success(request, _("Preferences saved.") if changed else _("Nothing changed."))
        return redirect("web:preferences")


class CalendarRotateView(PageMixin, TemplateView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        calendar_feed_rotate(user=request.user)
        messages.success(request, _("A new calendar link was made; the old one no longer works."))
        return redirect(reverse("web:preferences") + "#calendar")
