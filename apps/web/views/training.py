"""The signed-in person's own training: what is assigned to them, by when, and recording a completion
(the same service as POST /api/v1/training/assignments/{id}/complete/). Training e-mails link here."""

from django.contrib import messages
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from apps.core.errors import Conflict
from apps.notifications.models import TrainingAssignment
from apps.notifications.training import assignment_complete, assignment_list
from apps.web.views.base import PageMixin


def own_assignments(access):
    return assignment_list(access=access).filter(user_id=access.user_id)


class TrainingView(PageMixin, TemplateView):
    template_name = "web/training.html"
    section = "training"
    title = _("My training")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        open_first = F("completed_at").desc(nulls_first=True)
        context["assignments"] = own_assignments(self.access).order_by(open_first, "due_at")
        context["now"] = timezone.now()
        return context


class TrainingCompleteView(PageMixin, TemplateView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        try:
            assignment = own_assignments(self.access).get(pk=self.kwargs["assignment_id"])
        except TrainingAssignment.DoesNotExist:
            raise Http404 from None
        back = reverse("web:training") + f"#assignment-{assignment.pk}"
        try:
            # Completed now, so the service's only objection is an assignment already completed.
            assignment_complete(actor=request.user, access=self.access, assignment=assignment)
        except Conflict as exc:
            return self.conflict(exc, back)
        messages.success(request, _("Completion recorded: %(course)s.") % {"course": assignment.course.name})
        return redirect(back)
