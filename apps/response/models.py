from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from apps.catalog.models import Category
from apps.core.models import UUIDModel
from apps.response.choices import ActionStatus, Direction, IncidentStatus, Severity, TimelineKind
from apps.tenancy.models import Tenant, TenantScopedModel

# What a summary-only viewer's full-text search reads of a need-to-know incident: its reference and title
# (apps.response.selectors.incident_search_condition), indexed like the full vector.
SUMMARY_SEARCH_VECTOR = SearchVector("reference", "title", config="english")


class Incident(UUIDModel, TenantScopedModel):
    """The incident aggregate. Its lifecycle, timeline and actions arrive with the lifecycle issue."""

    reference = models.CharField(max_length=40, editable=False)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.DECLARED)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    impact = models.CharField(max_length=30, blank=True)
    urgency = models.CharField(max_length=30, blank=True)
    # Derived from impact × urgency through the tenant's matrix; never typed in.
    severity = models.CharField(max_length=2, choices=Severity.choices, blank=True)
    restricted = models.BooleanField(default=False, help_text="Need-to-know: visible only to named people.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    personal_data_breach = models.BooleanField(default=False)
    regimes = ArrayField(models.CharField(max_length=30), default=list, blank=True)
    affected_data_subjects = models.PositiveIntegerField(null=True, blank=True, help_text="Estimate.")
    affected_records = models.PositiveIntegerField(null=True, blank=True, help_text="Estimate.")
    affected_services = models.TextField(blank=True)
    root_cause = models.CharField(max_length=500, blank=True)
    false_alarm = models.BooleanField(default=False)
    close_rationale = models.TextField(blank=True)
    declared_at = models.DateTimeField()
    # First time each milestone was reached (kept on reopening): the metrics' time-to-contain and so on.
    contained_at = models.DateTimeField(null=True, blank=True, editable=False)
    recovered_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    aware_at = models.DateTimeField(null=True, blank=True)
    classified_major_at = models.DateTimeField(null=True, blank=True)
    materiality_determined_at = models.DateTimeField(null=True, blank=True)
    discovered_at = models.DateTimeField(null=True, blank=True)
    escalated_severity = models.CharField(max_length=2, blank=True, editable=False)
    # Maintained by a database trigger from reference, title and description (full-text search `q`).
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "reference"], name="response_incident_tenant_reference"
            ),
            # Target of children's composite foreign keys (tenant_id, incident_id).
            models.UniqueConstraint(fields=["tenant", "id"], name="response_incident_tenant_id"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="response_inc_tenant_created"),
            # Lists across many tenants (an executive's 50, a grant holder's): newest first, read in index
            # order and filtered, instead of collecting every row of the tenants and sorting (issue 7).
            models.Index(fields=["-created_at", "-id"], name="response_inc_created"),
            models.Index(fields=["tenant", "status", "-created_at"], name="response_inc_tenant_status"),
            GinIndex(fields=["search_vector"], name="response_inc_search"),
            GinIndex(SUMMARY_SEARCH_VECTOR, name="response_inc_summary_search"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class IncidentUserObjectPermission(UserObjectPermissionBase):
    """Guardian direct foreign-key grant (need-to-know members, outside investigators, counsel)."""

    content_object = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="user_grants")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [
            models.Index(fields=["user", "permission", "content_object"], name="response_incgrant_user"),
            models.Index(fields=["tenant", "user"], name="response_incgrant_tenant_user"),
        ]


class IncidentGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="group_grants")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [
            models.Index(fields=["group", "permission", "content_object"], name="response_incgrant_group")
        ]


class IncidentTeamMember(UUIDModel, TenantScopedModel):
    """The people working an incident beside its owner."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="team_members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "user"], name="response_team_incident_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.incident_id}"


class TimelineEntry(UUIDModel, TenantScopedModel):
    """What happened to an incident, in order: automatic entries for every recorded event, manual ones
    for observations and communications. Append-only (a database trigger refuses changes)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timeline")
    at = models.DateTimeField(help_text="When it happened (manual entries may be back-dated).")
    kind = models.CharField(max_length=20, choices=TimelineKind.choices)
    verb = models.CharField(max_length=100)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    actor_repr = models.CharField(max_length=150)
    summary = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    counterpart = models.CharField(max_length=300, blank=True, help_text="To or from whom (communications).")
    channel = models.CharField(max_length=50, blank=True, help_text="E-mail, phone, meeting, portal …")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "incident", "at"], name="response_timeline_incident_at")]
        verbose_name_plural = "timeline entries"

    def __str__(self) -> str:
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M %Z} {self.summary[:60]}"


class ResponseAction(UUIDModel, TenantScopedModel):
    """A response task of an incident (contain the host, reset credentials, call the insurer …)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="actions")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "incident", "-created_at"], name="response_action_incident"),
            models.Index(fields=["tenant", "status", "due_at"], name="response_action_due"),
        ]

    def __str__(self) -> str:
        return self.title
