"""Managers' side of the incident workspace: owner, team, need-to-know and grants, the personal-data
breach flag, regimes (with the rationale the notifiability decision needs), the clock anchors and the root
cause; and the review tab (the post-incident review and its corrective actions). Every write is one
service call; the incident is loaded through incident_get first, so another tenant's answers 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from apps.catalog.selectors import regime_visible
from apps.core.errors import Conflict
from apps.response.models import IncidentTeamMember, IncidentUserObjectPermission
from apps.response.selectors import incident_grant_list
from apps.response.services import incident_grant, incident_revoke, incident_update
from apps.reviews.choices import CORRECTIVE_ACTION_TRANSITIONS, CorrectiveActionStatus, ReviewStatus
from apps.reviews.models import CorrectiveAction, Review
from apps.reviews.selectors import corrective_action_list, review_list
from apps.reviews.services import (
    REVIEW_TEXT_FIELDS,
    corrective_action_create,
    corrective_action_update,
    review_complete,
    review_create,
    review_update,
)
from apps.tenancy.models import Membership, Tenant
from apps.tenancy.roles import Scope
from apps.tenancy.selectors import user_list
from apps.web.forms import (
    CorrectiveActionForm,
    CorrectiveActionStatusForm,
    GrantForm,
    IncidentManageForm,
    ReviewForm,
)
from apps.web.views.base import apply_service_errors
from apps.web.views.incidents import IncidentMixin

User = get_user_model()


def tenant_people(access, tenant_id):
    """The people the caller may see who are members of the tenant (or of an ancestor covering it)."""
    path = Tenant.objects.filter(pk=tenant_id).values_list("path", flat=True).first() or ""
    covering = [part for part in path.split("/") if part] or [tenant_id]
    member = Membership.unscoped.filter(user_id=OuterRef("pk"), tenant_id__in=covering)
    return user_list(access=access).filter(Exists(member), is_active=True).order_by("first_name", "username")


def _local(value):
    return timezone.localtime(value).replace(second=0, microsecond=0) if value else None


class IncidentTabsMixin(IncidentMixin):
    tab = ""

    def tabs_context(self, incident) -> dict:
        access = self.access
        return {
            "incident": incident,
            "tab": self.tab,
            "may_manage": access.has_scope(incident.tenant_id, Scope.INCIDENT_MANAGE),
            "page_title": f"{incident.reference} {incident.title}",
        }


class IncidentManageView(IncidentTabsMixin, TemplateView):
    template_name = "web/incident_manage.html"
    tab = "manage"

    def dispatch_checks(self):
        incident = self.get_full_incident()
        if not self.access.has_scope(incident.tenant_id, Scope.INCIDENT_MANAGE):
            raise PermissionDenied(_("Only the department's incident managers steer an incident."))
        return incident

    def initial(self, incident) -> dict:
        return {
            "owner": incident.owner_id,
            "team": list(
                IncidentTeamMember.unscoped.filter(incident=incident).values_list("user_id", flat=True)
            ),
            "restricted": incident.restricted,
            "personal_data_breach": incident.personal_data_breach,
            "regimes": list(incident.regimes),
            "aware_at": _local(incident.aware_at),
            "classified_major_at": _local(incident.classified_major_at),
            "materiality_determined_at": _local(incident.materiality_determined_at),
            "discovered_at": _local(incident.discovered_at),
            "root_cause": incident.root_cause,
        }

    def make_form(self, incident, data=None):
        regimes = regime_visible().filter(Q(tenant__isnull=True) | Q(tenant_id=incident.tenant_id))
        choices = [(r.code, f"{r.name}{'' if r.enabled else ' (' + _('disabled') + ')'}") for r in regimes]
        return IncidentManageForm(
            data,
            initial=self.initial(incident),
            people=tenant_people(self.access, incident.tenant_id),
            regimes=sorted(choices, key=lambda c: c[1].lower()),
        )

    def get_context_data(self, form=None, grant_form=None, **kwargs):
        incident = self.dispatch_checks()
        context = super().get_context_data(**kwargs)
        context.update(self.tabs_context(incident))
        people = tenant_people(self.access, incident.tenant_id)
        context.update(
            form=form or self.make_form(incident),
            grant_form=grant_form or GrantForm(people=user_list(access=self.access).order_by("username")),
            grants=incident_grant_list(incident=incident).order_by("created_at"),
            may_share=self.access.has_scope(incident.tenant_id, Scope.INCIDENT_SHARE),
            closed=incident.status == "closed",
            people_count=people.count(),
        )
        return context

    def post(self, request, *args, **kwargs):
        incident = self.dispatch_checks()
        form = self.make_form(incident, request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        changed = {name: form.cleaned_data[name] for name in form.changed_data if name in form.FIELDS}
        if "team" in changed:
            changed["team"] = list(changed["team"])
        if not changed:
            messages.info(request, _("Nothing changed."))
            return redirect(request.path)
        try:
            incident_update(
                actor=request.user,
                access=self.access,
                incident=incident,
                rationale=form.cleaned_data["rationale"],
                **changed,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        except Conflict as exc:
            return self.conflict(exc, request.path)
        messages.success(request, _("Incident updated."))
        return redirect(request.path)


class GrantCreateView(IncidentManageView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        incident = self.dispatch_checks()
        form = GrantForm(request.POST, people=user_list(access=self.access))
        if form.is_valid():
            try:
                incident_grant(actor=request.user, access=self.access, incident=incident, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request, _("%(name)s may now see this incident.") % {"name": form.cleaned_data["user"]}
                )
                return redirect(reverse("web:incident-manage", args=[incident.pk]) + "#access")
        return self.render_to_response(self.get_context_data(grant_form=form), status=400)


class GrantRevokeView(IncidentManageView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        incident = self.dispatch_checks()
        try:
            grant = incident_grant_list(incident=incident).get(pk=self.kwargs["grant_id"])
        except IncidentUserObjectPermission.DoesNotExist:
            raise Http404 from None
        incident_revoke(actor=request.user, access=self.access, grant=grant)
        messages.success(request, _("Access of %(name)s revoked.") % {"name": grant.user.get_username()})
        return redirect(reverse("web:incident-manage", args=[incident.pk]) + "#access")


# --- The review tab --------------------------------------------------------------------------------------


class ReviewView(IncidentTabsMixin, TemplateView):
    """The post-incident review: read by whoever reads the incident in full; written by managers."""

    template_name = "web/review.html"
    tab = "review"

    def get_review(self, incident) -> Review | None:
        return review_list(access=self.access).filter(incident=incident).first()

    def get_context_data(self, form=None, action_form=None, status_forms=None, **kwargs):
        incident = self.get_full_incident()
        context = super().get_context_data(**kwargs)
        context.update(self.tabs_context(incident))
        review = self.get_review(incident)
        access = self.access
        may_write = access.has_scope(incident.tenant_id, Scope.REVIEW_WRITE)
        people = tenant_people(access, incident.tenant_id)
        actions = []
        if review is not None:
            actions = list(
                corrective_action_list(access=access, review=review)
                .select_related("owner")
                .order_by("status", "due_at", "created_at")
            )
        status_labels = dict(CorrectiveActionStatus.choices)
        may_own = access.has_scope(incident.tenant_id, Scope.INCIDENT_WRITE)
        texts = {n: getattr(review, n) for n in REVIEW_TEXT_FIELDS} if review else None
        for action in actions:
            action.next_statuses = [
                (s, status_labels[s])
                for s in status_labels
                if s in CORRECTIVE_ACTION_TRANSITIONS.get(action.status, set())
            ]
            action.may_update = may_write or (action.owner_id == self.request.user.pk and may_own)
            action.form = (status_forms or {}).get(action.pk) or CorrectiveActionStatusForm(
                prefix=f"a{action.pk.hex[:8]}"
            )
        may_approve = access.has_scope(incident.tenant_id, Scope.REVIEW_APPROVE)
        completed = review is not None and review.status == ReviewStatus.COMPLETED
        context.update(
            review=review,
            completed=completed,
            form=form or ReviewForm(initial=texts),
            actions=actions,
            action_form=action_form or CorrectiveActionForm(people=people),
            may_write=may_write and not completed,
            may_add_actions=may_write and review is not None,
            may_approve=may_approve and review is not None and not completed,
            now=timezone.now(),
        )
        return context

    def review_url(self):
        return reverse("web:review", args=[self.kwargs["incident_id"]])

    def post(self, request, *args, **kwargs):
        incident = self.get_full_incident()
        review = self.get_review(incident)
        form = ReviewForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        try:
            if review is None:
                texts = {n: v for n, v in form.cleaned_data.items() if v}
                review_create(actor=request.user, access=self.access, incident=incident, **texts)
                messages.success(request, _("Review started."))
            else:
                texts = {
                    n: form.cleaned_data[n]
                    for n in REVIEW_TEXT_FIELDS
                    if form.cleaned_data[n] != getattr(review, n)
                }
                review_update(actor=request.user, access=self.access, review=review, **texts)
                messages.success(request, _("Review saved."))
        except ValidationError as exc:
            apply_service_errors(form, exc)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        except Conflict as exc:
            return self.conflict(exc, self.review_url())
        return redirect(self.review_url())


class ReviewWriteView(ReviewView):
    http_method_names = ["post"]

    def get_existing_review(self):
        incident = self.get_full_incident()
        review = self.get_review(incident)
        if review is None:
            raise Http404
        return incident, review


class ReviewCompleteView(ReviewWriteView):
    def post(self, request, *args, **kwargs):
        _incident, review = self.get_existing_review()
        try:
            review_complete(actor=request.user, access=self.access, review=review)
        except Conflict as exc:
            return self.conflict(exc, self.review_url())
        messages.success(request, _("Review completed. Its lessons are now searchable."))
        return redirect(self.review_url())


class CorrectiveActionCreateView(ReviewWriteView):
    def post(self, request, *args, **kwargs):
        incident, review = self.get_existing_review()
        form = CorrectiveActionForm(request.POST, people=tenant_people(self.access, incident.tenant_id))
        if form.is_valid():
            try:
                corrective_action_create(
                    actor=request.user, access=self.access, review=review, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Action added."))
                return redirect(self.review_url() + "#actions")
        return self.render_to_response(self.get_context_data(action_form=form), status=400)


class CorrectiveActionUpdateView(ReviewWriteView):
    def post(self, request, *args, **kwargs):
        _incident, review = self.get_existing_review()
        try:
            action = corrective_action_list(access=self.access, review=review).get(
                pk=self.kwargs["corrective_action_id"]
            )
        except CorrectiveAction.DoesNotExist:
            raise Http404 from None
        form = CorrectiveActionStatusForm(request.POST, prefix=f"a{action.pk.hex[:8]}")
        if form.is_valid():
            fields = {"status": form.cleaned_data["status"]}
            if form.cleaned_data["verification_note"]:
                fields["verification_note"] = form.cleaned_data["verification_note"]
            try:
                corrective_action_update(actor=request.user, access=self.access, action=action, **fields)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Action updated."))
                return redirect(self.review_url() + "#actions")
        return self.render_to_response(self.get_context_data(status_forms={action.pk: form}), status=400)
