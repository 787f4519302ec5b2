"""The incident list and the incident workspace (header and deadlines, state actions, timeline, actions,
evidence with custody, obligations). Every write goes through one service; every read through the
selectors that decide visibility, so another tenant's object answers 404 like a missing one."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from apps.core.errors import Conflict
from apps.core.identity import shown_actor
from apps.evidence.choices import CustodyAction
from apps.evidence.models import Evidence
from apps.evidence.selectors import custody_list, evidence_get, evidence_list
from apps.evidence.services import custody_record, evidence_add
from apps.notifications.choices import ObligationStatus
from apps.notifications.models import Obligation
from apps.notifications.selectors import obligation_list, obligation_of_incident
from apps.notifications.services import obligation_submission_errors, obligation_submit
from apps.reporting.selectors import report_list
from apps.response.actions import action_create, action_update
from apps.response.choices import ActionStatus, IncidentStatus, Severity, TimelineKind
from apps.response.lifecycle import permitted_transitions, state_blocker
from apps.response.models import Incident, ResponseAction
from apps.response.selectors import (
    Need,
    action_list,
    incident_get,
    incident_visible,
    timeline_list,
)
from apps.response.services import incident_transition
from apps.response.timeline import timeline_entry_add
from apps.tenancy.roles import Scope
from apps.web.assignees import incident_assignees
from apps.web.forms import (
    ActionAssignForm,
    ActionForm,
    ActionStatusForm,
    CustodyForm,
    EvidenceForm,
    SubmissionForm,
    TimelineNoteForm,
    TransitionForm,
)
from apps.web.uploads import UploadTooLarge, accepts_upload, stream_upload
from apps.web.views.base import PageMixin, apply_service_errors, selected_tenant_id, wants_json

PAGE_SIZE = 50
LIFECYCLE = [s for s, _label in IncidentStatus.choices]


class IncidentListView(PageMixin, TemplateView):
    template_name = "web/incident_list.html"
    section = "incidents"
    title = "Incidents"

    def get_context_data(self, **kwargs):
        self.require(Scope.INCIDENT_READ)
        context = super().get_context_data(**kwargs)
        params = self.request.GET
        incidents = incident_visible(access=self.access)
        tenant_id = selected_tenant_id(self.request)
        if tenant_id:
            incidents = incidents.filter(tenant_id=tenant_id)
        status = params.get("status", "open")
        if status == "open":
            incidents = incidents.exclude(status=IncidentStatus.CLOSED)
        elif status in IncidentStatus.values:
            incidents = incidents.filter(status=status)
        severity = params.get("severity", "")
        if severity in Severity.values:
            incidents = incidents.filter(severity=severity)
        q = params.get("q", "").strip()
        if q:
            incidents = incidents.filter(Q(reference__icontains=q) | Q(title__icontains=q))
        incidents = incidents.prefetch_related(None).order_by("severity", "-declared_at", "id")
        context.update(
            page=Paginator(incidents, PAGE_SIZE).get_page(params.get("page")),
            status=status,
            severity=severity,
            q=q,
            statuses=IncidentStatus.choices,
            severities=Severity.choices,
        )
        return context


def assign_prefix(action: ResponseAction) -> str:
    return f"a{action.pk.hex[:8]}"


def submission_prefix(obligation: Obligation) -> str:
    return f"o{obligation.pk.hex[:8]}"


def _local(value):
    return timezone.localtime(value) if value else None


class IncidentMixin(PageMixin):
    """Loads the incident through incident_get (404 for another tenant's or a need-to-know one)."""

    section = "incidents"

    def get_incident(self, need: Need = Need.SUMMARY) -> Incident:
        if not hasattr(self, "incident"):
            try:
                self.incident = incident_get(
                    access=self.access,
                    actor=self.request.user,
                    incident_id=self.kwargs["incident_id"],
                    need=need,
                )
            except Incident.DoesNotExist:
                raise Http404 from None
        if need is Need.FULL and self.incident.summary_only:  # loaded as a summary by an earlier call
            raise Http404
        return self.incident

    def get_full_incident(self) -> Incident:
        """Pages below the header need the full incident (Need.FULL): one seen as a summary only (an
        executive's of a need-to-know incident) answers 404 there, like an unknown one."""
        return self.get_incident(Need.FULL)

    def workspace_url(self, anchor: str = "") -> str:
        url = reverse("web:incident", kwargs={"incident_id": self.kwargs["incident_id"]})
        return f"{url}#{anchor}" if anchor else url


class IncidentWorkspaceView(IncidentMixin, TemplateView):
    template_name = "web/incident.html"
    # Bound forms with errors, put here by the write views that re-render the workspace.
    bound_forms: dict = {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        incident = self.get_incident()
        access = self.access
        tenant_id = incident.tenant_id
        context.update(
            incident=incident,
            page_title=f"{incident.reference} {incident.title}",
            may_manage=access.has_scope(tenant_id, Scope.INCIDENT_MANAGE),
        )
        context["lifecycle"] = [
            {"status": s, "label": label, "done": LIFECYCLE.index(s) < LIFECYCLE.index(incident.status)}
            for s, label in IncidentStatus.choices
        ]
        if incident.summary_only:
            return context
        obligations = list(
            obligation_of_incident(obligation_list(access=access), incident.pk).order_by(
                "status", "due_at", "id"
            )
        )
        context["obligations"] = obligations
        context["pending_obligations"] = [
            o for o in obligations if o.status == ObligationStatus.PENDING and o.due_at
        ]
        actions = action_list(incident=incident).order_by("status", "due_at", "created_at")
        context["transitions"] = self.transitions(incident, actions)
        context["timeline"] = timeline_list(incident=incident).order_by("-at", "-recorded_at")
        context["actions"] = actions
        # evidence_list: its `identity_hidden` keeps a confidential reporter's attachment anonymous.
        context["evidence"] = evidence_list(access=access).filter(incident=incident).order_by("-uploaded_at")
        context["reports"] = report_list(access=access).filter(incident=incident).order_by("received_at")
        is_open = incident.status != IncidentStatus.CLOSED  # a closed incident's own records are frozen
        context["may"] = {
            "write": is_open and access.has_scope(tenant_id, Scope.INCIDENT_WRITE),
            "evidence": access.has_scope(tenant_id, Scope.EVIDENCE_WRITE),
            "submit": access.has_scope(tenant_id, Scope.OBLIGATION_SUBMIT),
        }
        if context["may"]["write"]:
            self.add_action_forms(incident, context)
        context["note_form"] = self.bound_forms.get("note") or TimelineNoteForm()
        context["evidence_form"] = self.bound_forms.get("evidence") or EvidenceForm()
        context["submission_forms"] = {
            str(o.pk): self.bound_forms.get(f"submit-{o.pk}")
            or SubmissionForm(prefix=submission_prefix(o), initial={"recipient": o.recipient})
            for o in obligations
            if o.status == ObligationStatus.PENDING
        }
        for o in obligations:
            o.form = context["submission_forms"].get(str(o.pk))
        return context

    def transitions(self, incident: Incident, actions) -> list[dict]:
        """Every move the role allows from here; one blocked now is shown disabled with the reason and a
        link to where it is fixed (lifecycle.state_blocker: the same rule the move checks). A close with
        open response actions asks what becomes of them."""
        labels = dict(IncidentStatus.choices)
        has_open_actions = any(a.status == ActionStatus.OPEN for a in actions)
        shown = []
        for t in permitted_transitions(incident, self.access):
            blocked = state_blocker(incident, t)
            shown.append(
                {
                    "to": t.target,
                    "label": labels[t.target],
                    "needs_note": t.needs_note,
                    "blocked": blocked,
                    "fix_url": self.fix_url(blocked),
                    "decides_open_actions": t.target == IncidentStatus.CLOSED and has_open_actions,
                    "form": self.bound_forms.get(f"transition-{t.target}")
                    or TransitionForm(initial={"to": t.target}),
                }
            )
        return shown

    def fix_url(self, blocked) -> str:
        """Where a blocked move is put right (the places a Blocked's `fix` names)."""
        incident_id = self.kwargs["incident_id"]
        places = {
            "root_cause": reverse("web:incident-manage", kwargs={"incident_id": incident_id})
            + "#id_root_cause",
            "review": reverse("web:review", kwargs={"incident_id": incident_id}),
        }
        return places.get(blocked.fix, "") if blocked else ""

    def add_action_forms(self, incident: Incident, context: dict) -> None:
        """The new-action form and each action's assignment form, offering the people who see the incident."""
        people = incident_assignees(access=self.access, incident=incident)
        action_form = self.bound_forms.get("action") or ActionForm(people=people)
        # The people are read once for every form's list (each field would query them as it renders);
        # a posted choice is still checked against the queryset.
        choices = list(action_form.fields["assignee"].choices)
        action_form.fields["assignee"].choices = choices
        context["action_form"] = action_form
        for action in context["actions"]:
            action.assign_form = self.bound_forms.get(f"assign-{action.pk}") or ActionAssignForm(
                prefix=assign_prefix(action),
                people=people,
                initial={"assignee": action.assignee_id, "due_at": _local(action.due_at)},
            )
            action.assign_form.fields["assignee"].choices = choices

    def rerender(self, key: str, form):
        """The workspace again, with this form's errors in place (400)."""
        self.bound_forms = {key: form}
        response = self.render_to_response(self.get_context_data(), status=400)
        return response


class WriteView(IncidentWorkspaceView):
    http_method_names = ["post"]

    def dispatch(self, request, *args, **kwargs):
        """A Conflict the write did not handle itself (e.g. the incident is closed) comes back to the
        workspace as a message."""
        try:
            return super().dispatch(request, *args, **kwargs)
        except Conflict as exc:
            return self.conflict(exc, self.workspace_url())

    def get_action(self, incident) -> ResponseAction:
        try:
            return action_list(incident=incident).get(pk=self.kwargs["action_id"])
        except ResponseAction.DoesNotExist:
            raise Http404 from None


class TransitionView(WriteView):
    def post(self, request, *args, **kwargs):
        incident = self.get_full_incident()
        form = TransitionForm(request.POST)
        if not form.is_valid():
            return redirect(self.workspace_url())
        target = form.cleaned_data["to"]
        try:
            incident_transition(
                actor=request.user, access=self.access, incident=incident, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
            return self.rerender(f"transition-{target}", form)
        except Conflict as exc:
            if exc.code != "open_actions":
                return self.conflict(exc, self.workspace_url())
            form.add_error("open_actions", str(exc))
            return self.rerender(f"transition-{target}", form)
        messages.success(
            request, _("Moved to %(status)s.") % {"status": dict(IncidentStatus.choices)[target]}
        )
        return redirect(self.workspace_url())


class ActionCreateView(WriteView):
    def post(self, request, *args, **kwargs):
        incident = self.get_full_incident()
        form = ActionForm(request.POST, people=incident_assignees(access=self.access, incident=incident))
        if not form.is_valid():
            return self.rerender("action", form)
        try:
            action_create(actor=request.user, access=self.access, incident=incident, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            return self.rerender("action", form)
        messages.success(request, _("Action added."))
        return redirect(self.workspace_url("actions"))


class ActionStatusView(WriteView):
    def post(self, request, *args, **kwargs):
        incident = self.get_full_incident()
        action = self.get_action(incident)
        form = ActionStatusForm(request.POST)
        if form.is_valid():
            try:
                action_update(
                    actor=request.user, access=self.access, action=action, status=form.cleaned_data["status"]
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
        return redirect(self.workspace_url("actions"))


class ActionAssignView(WriteView):
    """Assign a response action and set its due date (action_update, as PATCH on the API does)."""

    def post(self, request, *args, **kwargs):
        incident = self.get_full_incident()
        action = self.get_action(incident)
        people = incident_assignees(access=self.access, incident=incident)
        form = ActionAssignForm(request.POST, prefix=assign_prefix(action), people=people)
        key = f"assign-{action.pk}"
        if not form.is_valid():
            return self.rerender(key, form)
        try:
            action_update(actor=request.user, access=self.access, action=action, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            return self.rerender(key, form)
        except Conflict as exc:
            return self.conflict(exc, self.workspace_url("actions"))
        messages.success(request, _("Action %(title)s updated.") % {"title": action.title})
        return redirect(self.workspace_url("actions"))


class TimelineNoteView(WriteView):
    def post(self, request, *args, **kwargs):
        incident = self.get_full_incident()
        form = TimelineNoteForm(request.POST)
        if not form.is_valid():
            return self.rerender("note", form)
        try:
            timeline_entry_add(
                actor=request.user,
                access=self.access,
                incident=incident,
                kind=TimelineKind.OBSERVATION,
                summary=form.cleaned_data["summary"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
            return self.rerender("note", form)
        return redirect(self.workspace_url("timeline"))


@method_decorator(csrf_exempt, name="dispatch")  # checked in post(), after the upload handler is set
class EvidenceUploadView(WriteView):
    @accepts_upload
    def post(self, request, *args, **kwargs):
        incident = self.get_full_incident()
        try:
            refused = stream_upload(request)
            form = EvidenceForm(request.POST, request.FILES)
            valid = refused is None and form.is_valid()
        except UploadTooLarge as exc:
            if wants_json(request):
                return JsonResponse({"errors": {"file": [str(exc.detail)]}}, status=413)
            messages.error(request, str(exc.detail))
            return redirect(self.workspace_url("evidence"))
        if refused is not None:
            return refused
        if valid:
            data = form.cleaned_data
            try:
                evidence_add(actor=request.user, access=self.access, incident=incident, **data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Evidence %(name)s stored.") % {"name": data["file"].name})
                url = self.workspace_url("evidence")
                return JsonResponse({"redirect": url}) if wants_json(request) else redirect(url)
        if wants_json(request):
            return JsonResponse({"errors": form.errors}, status=400)
        return self.rerender("evidence", form)


class CustodyView(IncidentMixin, TemplateView):
    """An item's chain of custody; investigators and managers (evidence:custody) record a transfer, seal,
    release or return on it through custody_record, as POST /api/v1/evidence/{id}/custody/ does."""

    template_name = "web/custody.html"
    bound_form: CustodyForm | None = None

    def get_evidence(self) -> Evidence:
        incident = self.get_full_incident()
        try:
            evidence = evidence_get(access=self.access, evidence_id=self.kwargs["evidence_id"])
        except Evidence.DoesNotExist:
            raise Http404 from None
        if evidence.incident_id != incident.pk:
            raise Http404
        return evidence

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        evidence = self.get_evidence()
        custody = list(custody_list(evidence=evidence).order_by("at", "recorded_at"))
        for entry in custody:  # as the API shows it: the confidential reporter's entries name nobody
            _, entry.shown_by = shown_actor(entry.actor_id, entry.actor_repr, report=evidence.report)
        context.update(
            incident=self.get_incident(),
            evidence=evidence,
            custody=custody,
            page_title=evidence.original_name,
        )
        if self.access.has_scope(evidence.tenant_id, Scope.EVIDENCE_CUSTODY):
            holder = next((c.to_holder for c in reversed(custody) if c.to_holder), "")
            context["custody_forms"] = [
                self.bound_form
                if self.bound_form is not None and self.bound_form.action == action
                else CustodyForm(action=action, initial={"from_holder": holder})
                for action in CustodyForm.FIELDS
            ]
        return context

    def post(self, request, *args, **kwargs):
        evidence = self.get_evidence()
        action = request.POST.get("action", "")
        if action not in CustodyForm.FIELDS:
            return self.render_custody_error(_("Choose a transfer, seal, release or return."))
        form = CustodyForm(request.POST, action=action)
        if form.is_valid():
            try:
                custody_record(
                    actor=request.user,
                    access=self.access,
                    evidence=evidence,
                    action=action,
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                label = dict(CustodyAction.choices)[action]
                messages.success(request, _("%(action)s recorded.") % {"action": label})
                return redirect(request.path)
        self.bound_form = form
        return self.render_to_response(self.get_context_data(), status=400)

    def render_custody_error(self, message: str):
        messages.error(self.request, message)
        return self.render_to_response(self.get_context_data(), status=400)


class SubmissionView(WriteView):
    def post(self, request, *args, **kwargs):
        incident = self.get_full_incident()
        try:
            obligation = obligation_of_incident(obligation_list(access=self.access), incident.pk).get(
                pk=self.kwargs["obligation_id"]
            )
        except Obligation.DoesNotExist:
            raise Http404 from None
        form = SubmissionForm(request.POST, prefix=submission_prefix(obligation))
        key = f"submit-{obligation.pk}"
        valid = form.is_valid()
        given = {name: value for name, value in form.cleaned_data.items() if name != "confirm"}
        if not valid:
            # Every problem at once: the record's (the service's rule) beside the form's own.
            for name, errors in obligation_submission_errors(obligation=obligation, **given).items():
                if name not in form.errors:
                    form.add_error(name if name in form.fields else None, errors)
            return self.rerender(key, form)
        try:
            obligation_submit(actor=request.user, access=self.access, obligation=obligation, **given)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            return self.rerender(key, form)
        except Conflict as exc:
            return self.conflict(exc, self.workspace_url("obligations"))
        messages.success(request, _("Submission recorded."))
        return redirect(self.workspace_url("obligations"))
