"""Reviews and their corrective actions across the caller's incidents (overdue first), and the lessons
search over completed reviews (apps.reviews.selectors.lesson_search: PostgreSQL full-text)."""

from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone
from django.views.generic import TemplateView

from apps.reviews.choices import PENDING_STATUSES, CorrectiveActionStatus, ReviewStatus
from apps.reviews.selectors import (
    corrective_action_list,
    lesson_candidates,
    lesson_latest,
    lesson_search,
    review_list,
)
from apps.tenancy.roles import Scope
from apps.web.views.base import PageMixin, selected_tenant_id

PAGE_SIZE = 50


class ReviewListView(PageMixin, TemplateView):
    template_name = "web/reviews.html"
    section = "reviews"
    title = "Reviews and actions"

    def get_context_data(self, **kwargs):
        self.require(Scope.INCIDENT_READ)
        context = super().get_context_data(**kwargs)
        params = self.request.GET
        tenant_id = selected_tenant_id(self.request)
        now = timezone.now()
        actions = corrective_action_list(access=self.access).select_related("review__incident", "owner")
        reviews = review_list(access=self.access).select_related("approved_by")
        if tenant_id:
            actions = actions.filter(tenant_id=tenant_id)
            reviews = reviews.filter(tenant_id=tenant_id)
        show = params.get("show", "pending")
        if show == "pending":
            actions = actions.filter(status__in=PENDING_STATUSES)
        elif show == "overdue":
            actions = actions.filter(status__in=PENDING_STATUSES, due_at__lt=now)
        elif show in CorrectiveActionStatus.values:
            actions = actions.filter(status=show)
        actions = actions.annotate(
            overdue_first=Case(
                When(status__in=PENDING_STATUSES, due_at__lt=now, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        ).order_by("overdue_first", "due_at", "created_at")
        context.update(
            page=Paginator(actions, PAGE_SIZE).get_page(params.get("page")),
            show=show,
            statuses=CorrectiveActionStatus.choices,
            overdue_count=corrective_action_list(access=self.access)
            .filter(status__in=PENDING_STATUSES, due_at__lt=now)
            .filter(**({"tenant_id": tenant_id} if tenant_id else {}))
            .count(),
            drafts=reviews.filter(status=ReviewStatus.DRAFT).order_by("-created_at")[:20],
            completed_count=reviews.filter(status=ReviewStatus.COMPLETED).count(),
        )
        return context


class LessonSearchView(PageMixin, TemplateView):
    template_name = "web/lessons.html"
    section = "reviews"
    title = "Lessons learned"

    def get_context_data(self, **kwargs):
        self.require(Scope.INCIDENT_READ)
        context = super().get_context_data(**kwargs)
        q = self.request.GET.get("q", "").strip()[:200]
        candidates = lesson_candidates(access=self.access)
        tenant_id = selected_tenant_id(self.request)
        if tenant_id:
            candidates = candidates.filter(tenant_id=tenant_id)
        results = lesson_search(candidates, q=q) if q else lesson_latest(candidates)
        context.update(q=q, page=Paginator(results, 20).get_page(self.request.GET.get("page")))
        return context
