"""The pages' forms. They only shape input: every rule is checked again by the service they feed."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.throttling import BaseThrottle

from apps.assessment.choices import Decision
from apps.evidence.choices import CollectionMethod, EvidenceSource
from apps.reporting.choices import ReportKind
from apps.response.choices import OpenActionsDecision
from apps.tenancy.admin_site import VigilAdminAuthenticationForm
from apps.web import lockout


def _text(rows: int = 3):
    return forms.Textarea(attrs={"rows": rows})


DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def person_label(user) -> str:
    name = user.get_full_name()
    return f"{name} ({user.get_username()})" if name else user.get_username()


def client_ip(request) -> str:
    """The client's address as the API's throttles see it: REMOTE_ADDR, or the NUM_PROXIES-th
    X-Forwarded-For entry from the right behind reverse proxies (never the proxy's own address, which would
    put every person behind it into one lockout)."""
    if request is None:
        return ""
    return (BaseThrottle().get_ident(request) or "")[:45]


class LockoutMixin:
    """A sign-in form behind the lockout (apps/web/lockout.py): a locked username-and-address or address is
    refused before any password check, and a wrong password counts. A correct password refused for another
    reason (an admin login without an admin role) is not a guess and does not count."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request)
        lock = lockout.lock_for(username=username, ip=ip)
        if lock:
            raise ValidationError(lockout.lock_message(lock), code="locked")
        try:
            cleaned = super().clean()
        except ValidationError as exc:
            if username and exc.code == "invalid_login" and self.user_cache is None:
                lock = lockout.signin_failed(username=username, ip=ip)
                if lock:
                    raise ValidationError(lockout.lock_message(lock), code="locked") from exc
            raise
        lockout.signin_succeeded(username=username, ip=ip)
        return cleaned


class SignInForm(LockoutMixin, AuthenticationForm):
    """Django's sign-in form behind the lockout."""


class AdminSignInForm(LockoutMixin, VigilAdminAuthenticationForm):
    """The admin site's login form behind the same lockout (installed by apps/web/apps.py)."""


class SecondFactorForm(forms.Form):
    """The second step of signing in, and the re-authentication before changing one's second factor."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=16,
        help_text=_("The 6-digit code your authenticator app shows for Vigil after scanning."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )


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
    rationale = forms.CharField(label=_("Rationale"), widget=_text())
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
    # A close with open response actions: what becomes of them (apps/response/close.py).
    open_actions = forms.ChoiceField(
        label=_("Open response actions"),
        choices=OpenActionsDecision.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why they are cancelled (needed to cancel them)."),
    )


class ActionAssignForm(forms.Form):
    """Who does a response action, and by when (people who see the incident: apps/web/assignees.py)."""

    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=None, required=False)
    due_at = forms.DateTimeField(label=_("Due"), required=False, widget=DATETIME_WIDGET)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = people
        self.fields["assignee"].empty_label = _("Unassigned")
        self.fields["assignee"].label_from_instance = person_label


class ActionForm(ActionAssignForm):
    title = forms.CharField(label=_("New action"), max_length=300)
    field_order = ["title", "assignee", "due_at"]


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=[("done", "done"), ("open", "open"), ("cancelled", "cancelled")])


class CustodyForm(forms.Form):
    """A transfer, seal, release or return of an evidence item (apps.evidence.services.custody_record,
    as POST /api/v1/evidence/{id}/custody/), with the fields that action records."""

    from_holder = forms.CharField(label=_("Handed over by"), required=False, max_length=300)
    to_holder = forms.CharField(label=_("Received by"), required=False, max_length=300)
    purpose = forms.CharField(label=_("Purpose"), required=False, max_length=500)
    location = forms.CharField(
        label=_("Location"), required=False, max_length=300, help_text=_("Where the item is kept now.")
    )
    at = forms.DateTimeField(
        label=_("When"), required=False, widget=DATETIME_WIDGET, help_text=_("Empty: now.")
    )

    FIELDS = {
        "transferred": ("from_holder", "to_holder", "purpose", "location", "at"),
        "sealed": ("purpose", "location", "at"),
        "released": ("to_holder", "purpose", "location", "at"),
        "returned": ("to_holder", "purpose", "location", "at"),
    }
    TO_HOLDER_LABELS = {"released": _("Released to"), "returned": _("Returned to")}
    # The form's title and its button.
    LABELS = {
        "transferred": (_("Transfer"), _("Record the transfer")),
        "sealed": (_("Seal"), _("Record the seal")),
        "released": (_("Release"), _("Record the release")),
        "returned": (_("Return"), _("Record the return")),
    }

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, prefix=action, **kwargs)
        self.action = action
        self.title, self.submit_label = self.LABELS[action]
        for name in set(self.fields) - set(self.FIELDS[action]):
            del self.fields[name]
        if action in self.TO_HOLDER_LABELS:
            self.fields["to_holder"].label = self.TO_HOLDER_LABELS[action]


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
    # The record is written once: the page asks for it to be confirmed (no JavaScript needed).
    confirm = forms.BooleanField(
        label=_("I confirm this notice was sent as stated. The record cannot be changed afterwards."),
        error_messages={"required": _("Tick to confirm that the notice was sent as stated.")},
    )


# --- Second increment: managing an incident, its review, notifications -----------------------------------


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person_label(obj)


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return person_label(obj)


class IncidentManageForm(forms.Form):
    """What a manager steers (apps.response.services.STEERING) and the root cause."""

    owner = UserChoiceField(label=_("Owner"), queryset=None, required=False, empty_label=_("Unassigned"))
    team = UserMultipleChoiceField(
        label=_("Response team"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    restricted = forms.BooleanField(
        label=_("Need-to-know"),
        required=False,
        help_text=_("Only the team, the owner, managers and people granted access below see it in full."),
    )
    personal_data_breach = forms.BooleanField(
        label=_("Personal-data breach"),
        required=False,
        help_text=_(
            "Adds the data-protection regimes of the department (e.g. GDPR) and starts their clocks."
        ),
    )
    regimes = forms.MultipleChoiceField(
        label=_("Regimes"), required=False, widget=forms.CheckboxSelectMultiple
    )
    rationale = forms.CharField(
        label=_("Rationale for the regimes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when a regime is added or removed: the notifiability decision is recorded."),
    )
    aware_at = forms.DateTimeField(label=_("Aware at"), required=False, widget=DATETIME_WIDGET)
    classified_major_at = forms.DateTimeField(
        label=_("Classified major at"), required=False, widget=DATETIME_WIDGET, help_text=_("DORA clock.")
    )
    materiality_determined_at = forms.DateTimeField(
        label=_("Materiality determined at"),
        required=False,
        widget=DATETIME_WIDGET,
        help_text=_("SEC clock."),
    )
    discovered_at = forms.DateTimeField(label=_("Discovered at"), required=False, widget=DATETIME_WIDGET)
    root_cause = forms.CharField(label=_("Root cause"), required=False, max_length=500)

    FIELDS = [
        "owner",
        "team",
        "restricted",
        "personal_data_breach",
        "regimes",
        "aware_at",
        "classified_major_at",
        "materiality_determined_at",
        "discovered_at",
        "root_cause",
    ]

    def __init__(self, *args, people, regimes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people
        self.fields["team"].queryset = people
        self.fields["regimes"].choices = regimes


class GrantForm(forms.Form):
    user = UserChoiceField(label=_("Person"), queryset=None)
    permission = forms.ChoiceField(
        label=_("Access"), choices=[("view", _("View")), ("change", _("View and edit"))]
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people


class ReviewForm(forms.Form):
    timeline_summary = forms.CharField(
        label=_("What happened (summary of the timeline)"),
        required=False,
        widget=_text(),
    )
    root_cause = forms.CharField(label=_("Root cause"), required=False, widget=_text())
    contributing_factors = forms.CharField(label=_("Contributing factors"), required=False, widget=_text())
    went_well = forms.CharField(label=_("What went well"), required=False, widget=_text())
    went_badly = forms.CharField(label=_("What went badly"), required=False, widget=_text())
    lessons_learned = forms.CharField(
        label=_("Lessons learned"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Searchable by everyone who may read the incident, once the review is completed."),
    )


class CorrectiveActionForm(forms.Form):
    title = forms.CharField(label=_("Action"), max_length=300)
    kind = forms.ChoiceField(label=_("Kind"), choices=())
    owner = UserChoiceField(label=_("Owner"), queryset=None, required=False, empty_label=_("Nobody yet"))
    due_at = forms.DateTimeField(label=_("Due"), required=False, widget=DATETIME_WIDGET)

    def __init__(self, *args, people, **kwargs):
        from apps.reviews.choices import ActionKind

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ActionKind.choices
        self.fields["owner"].queryset = people


class CorrectiveActionStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=())
    verification_note = forms.CharField(label=_("How effectiveness was checked"), required=False)

    def __init__(self, *args, **kwargs):
        from apps.reviews.choices import CorrectiveActionStatus

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = CorrectiveActionStatus.choices


DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PeriodForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE_WIDGET)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE_WIDGET)
