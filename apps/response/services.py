from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.events import diff, publish
from apps.response.choices import GrantPermission, IncidentStatus
from apps.response.models import Incident, IncidentUserObjectPermission
from apps.response.selectors import GRANT_CODENAMES
from apps.tenancy.access import Access
from apps.tenancy.models import Tenant
from apps.tenancy.roles import Scope
from apps.tenancy.services import next_reference_number

INCIDENT_FIELDS = ["reference", "title", "description", "status", "severity", "restricted", "owner_id"]


@transaction.atomic
def incident_declare(
    *,
    actor,
    access: Access,
    tenant: Tenant,
    title: str,
    description: str = "",
    severity: str = "",
    restricted: bool = False,
    owner=None,
) -> Incident:
    if not access.has_scope(tenant.id, Scope.INCIDENT_DECLARE):
        raise PermissionDenied("You may not declare incidents in this tenant.")
    now = timezone.now()
    number = next_reference_number(tenant=tenant, kind="incident", year=now.year)
    incident = Incident(
        tenant=tenant,
        reference=f"{tenant.reference_prefix}-{now.year}-{number:04d}",
        title=title,
        description=description,
        severity=severity,
        restricted=restricted,
        owner=owner,
        status=IncidentStatus.DECLARED,
        declared_at=now,
    )
    incident.full_clean(validate_unique=False, validate_constraints=False)
    incident.save(force_insert=True)
    publish(
        verb="incident.declared",
        actor=actor,
        target=incident,
        tenant_id=tenant.id,
        incident_id=incident.pk,
        changes=diff(incident, {}, INCIDENT_FIELDS),
    )
    return incident


def _require_share(access: Access, incident: Incident) -> None:
    if not access.has_scope(incident.tenant_id, Scope.INCIDENT_SHARE):
        raise PermissionDenied("You may not manage who can see this incident.")


@transaction.atomic
def incident_grant(
    *, actor, access: Access, incident: Incident, user, permission: str
) -> IncidentUserObjectPermission:
    """Give one person need-to-know access to one incident (`view`, or `change` which includes view)."""
    _require_share(access, incident)
    if permission not in GrantPermission.values:
        raise ValidationError({"permission": [f"One of: {', '.join(GrantPermission.values)}."]})
    codename = GRANT_CODENAMES[permission]
    perm = Permission.objects.get(content_type__app_label="response", codename=codename)
    if IncidentUserObjectPermission.objects.filter(
        content_object=incident, user=user, permission=perm
    ).exists():
        raise ValidationError({"user": ["This person already holds this grant on this incident."]})
    grant = IncidentUserObjectPermission.objects.create(
        content_object=incident, user=user, permission=perm, tenant_id=incident.tenant_id, granted_by=actor
    )
    publish(
        verb="incident.granted",
        actor=actor,
        target=incident,
        tenant_id=incident.tenant_id,
        incident_id=incident.pk,
        data={"user_id": str(user.pk), "permission": permission},
    )
    return grant


@transaction.atomic
def incident_revoke(*, actor, access: Access, grant: IncidentUserObjectPermission) -> None:
    incident = grant.content_object
    _require_share(access, incident)
    publish(
        verb="incident.grant_revoked",
        actor=actor,
        target=incident,
        tenant_id=incident.tenant_id,
        incident_id=incident.pk,
        data={"user_id": str(grant.user_id), "permission": grant.permission.codename},
    )
    grant.delete()


def incident_grants_revoke_for_member(*, tenant_id, user_id) -> int:
    """When a membership ends, its holder's need-to-know grants in that tenant's subtree end with it."""
    path = Tenant.objects.filter(pk=tenant_id).values_list("path", flat=True).first() or ""
    deleted, _ = IncidentUserObjectPermission.objects.filter(
        user_id=user_id, tenant__path__startswith=path
    ).delete()
    return deleted
