from django.conf import settings
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from apps.core.models import UUIDModel
from apps.response.choices import IncidentStatus, Severity
from apps.tenancy.models import Tenant, TenantScopedModel


class Incident(UUIDModel, TenantScopedModel):
    """The incident aggregate. Its lifecycle, timeline and actions arrive with the lifecycle issue."""

    reference = models.CharField(max_length=40, editable=False)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.DECLARED)
    severity = models.CharField(max_length=2, choices=Severity.choices, blank=True)
    restricted = models.BooleanField(default=False, help_text="Need-to-know: visible only to named people.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    personal_data_breach = models.BooleanField(default=False)
    root_cause = models.CharField(max_length=500, blank=True)
    declared_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    aware_at = models.DateTimeField(null=True, blank=True)
    classified_major_at = models.DateTimeField(null=True, blank=True)
    materiality_determined_at = models.DateTimeField(null=True, blank=True)
    discovered_at = models.DateTimeField(null=True, blank=True)
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
            models.Index(fields=["tenant", "status", "-created_at"], name="response_inc_tenant_status"),
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
