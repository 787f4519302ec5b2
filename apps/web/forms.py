"""The pages' forms. They only shape input: every rule is checked again by the service they feed."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.assessment.choices import Decision
from apps.evidence.choices import CollectionMethod, EvidenceSource
from apps.reporting.choices import ReportKind
from apps.web import lockout

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def client_ip(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "")[:45] if request is not None else ""


class SignInForm(AuthenticationForm):
    """Django's sign-in form, refusing a locked (username, address) pair before any password check."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _(
            "Too many failed sign-ins for this account from your address. Try again after %(until)s."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request)
        until = lockout.locked_until(username=username, ip=ip)
        if until:
            raise ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"until": timezone.localtime(until).strftime("%H:%M")},
            )
        try:
            cleaned = super().clean()
        except ValidationError as exc:
            if username and exc.code == "invalid_login":
                throttle = lockout.signin_failed(username=username, ip=ip)
                if throttle.locked_until and throttle.locked_until > timezone.now():
                    raise ValidationError(
                        self.error_messages["locked"],
                        code="locked",
                        params={"until": timezone.localtime(throttle.locked_until).strftime("%H:%M")},
                    ) from exc
            raise
        lockout.signin_succeeded(username=username, ip=ip)
        return cleaned


class ReportForm(forms.Form):
    tenant = forms.ChoiceField(label=_("Department"), required=False)
    title = forms.CharField(
        label=_("What happened, in one line"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. An e-mail asked me to confirm my password")}),
    )
    description = forms.CharField(
        label=_("Details"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What you saw, where, and who else may be affected."),
    )
    occurred_at = forms.DateTimeField(label=_("When did it happen?"), widget=DATETIME_WIDGET)
    kind = forms.ChoiceField(label=_("What kind of problem is it?"), choices=ReportKind.choices)
    attachment = forms.FileField(
        label=_("Attachment (optional)"),
        required=False,
        help_text=_("A screenshot, the suspicious e-mail saved as a file, a log excerpt."),
    )
    confidential = forms.BooleanField(
        label=_("Keep my identity confidential"),
        required=False,
        help_text=_("Only the incident managers of your department will see who reported this."),
    )

    def __init__(self, *args, tenants=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].choices = [(str(t.pk), t.name) for t in tenants]
        if len(tenants) <= 1:
            self.fields["tenant"].widget = forms.HiddenInput()
        if not self.is_bound:
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))


class AssessmentForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Decision.choices, widget=forms.RadioSelect)
    category = forms.ModelChoiceField(label=_("Category"), queryset=None, required=False)
    impact = forms.ChoiceField(label=_("Impact"), required=False)
    urgency = forms.ChoiceField(label=_("Urgency"), required=False)
    rationale = forms.CharField(label=_("Rationale"), widget=forms.Textarea(attrs={"rows": 3}))
    duplicate_of = forms.ModelChoiceField(label=_("Duplicate of report"), queryset=None, required=False)
    incident = forms.ModelChoiceField(
        label=_("Link to an existing incident"),
        queryset=None,
        required=False,
        help_text=_("Leave empty to open a new incident."),
    )

    def __init__(self, *args, categories, matrix, reports, incidents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories
        self.fields["category"].label_from_instance = lambda c: (
            f"{c.parent.name} › {c.name}" if c.parent_id else c.name
        )
        blank = [("", "—")]
        self.fields["impact"].choices = blank + [(v, v.capitalize()) for v in matrix.impact_levels]
        self.fields["urgency"].choices = blank + [(v, v.capitalize()) for v in matrix.urgency_levels]
        self.fields["duplicate_of"].queryset = reports
        self.fields["duplicate_of"].label_from_instance = lambda r: f"{r.reference} · {r.title}"
        self.fields["incident"].queryset = incidents
        self.fields["incident"].label_from_instance = lambda i: f"{i.reference} · {i.title}"


class TransitionForm(forms.Form):
    to = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ActionForm(forms.Form):
    title = forms.CharField(label=_("New action"), max_length=300)
    due_at = forms.DateTimeField(label=_("Due"), required=False, widget=DATETIME_WIDGET)


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=[("done", "done"), ("open", "open"), ("cancelled", "cancelled")])


class TimelineNoteForm(forms.Form):
    summary = forms.CharField(label=_("Observation"), widget=forms.Textarea(attrs={"rows": 2}))


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("File"))
    description = forms.CharField(label=_("Description"), required=False, max_length=2000)
    source = forms.ChoiceField(label=_("Source"), choices=EvidenceSource.choices, initial=EvidenceSource.HOST)
    source_detail = forms.CharField(
        label=_("Taken from"), required=False, max_length=300, help_text=_("Host name, system or person.")
    )
    method = forms.ChoiceField(
        label=_("Method"), choices=CollectionMethod.choices, initial=CollectionMethod.OTHER
    )


class SubmissionForm(forms.Form):
    submitted_at = forms.DateTimeField(
        label=_("Sent at"), required=False, widget=DATETIME_WIDGET, help_text=_("Empty: now.")
    )
    recipient = forms.CharField(label=_("Sent to"), required=False, max_length=300)
    reference = forms.CharField(label=_("Their reference"), required=False, max_length=200)
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
