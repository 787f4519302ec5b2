from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.catalog.choices import DATA_PROTECTION_REGIMES
from apps.catalog.models import Category
from apps.catalog.selectors import is_at_or_above, regime_codes_for, severity_for, severity_matrix_for
from apps.core.errors import Conflict
from apps.core.events import diff, publish, snapshot
from apps.core.times import ANCHOR_AHEAD, require_past_times
from apps.core.validation import validate
from apps.response.choices import GrantPermission, IncidentStatus, OpenActionsDecision
from apps.response.close import settle_open_actions
from apps.response.lifecycle import blocker, refuse_if_closed, targets_from, transition_for
from apps.response.models import Incident, IncidentTeamMember, IncidentUserObjectPermission
from apps.response.selectors import GRANT_CODENAMES
from apps.tenancy.access import Access
from apps.tenancy.models import Tenant
from apps.tenancy.roles import Scope
from apps.tenancy.services import next_reference_number

INCIDENT_FIELDS = [
    "reference",
    "title",
    "description",
    "status",
    "category_id",
    "impact",
    "urgency",
    "severity",
    "restricted",
    "owner_id",
    "personal_data_breach",
    "regimes",
    "affected_data_subjects",
    "affected_records",
    "affected_services",
    "root_cause",
    "aware_at",
    "classified_major_at",
    "materiality_determined_at",
    "discovered_at",
]
CLOCK_ANCHORS = ["aware_at", "classified_major_at", "materiality_determined_at", "discovered_at"]
FLAGS = ["personal_data_breach", "regimes", "affected_data_subjects", "affected_records"]
# Who may edit what: handlers describe and classify; managers steer (owner, need-to-know, legal flags,
# clocks); an outsider holding a `change` grant may describe only.
DESCRIPTIVE = {"title", "description", "affected_services", "affected_data_subjects", "affected_records"}
CLASSIFYING = {"category", "impact", "urgency", "root_cause"}
STEERING = {"owner", "team", "restricted", "personal_data_breach", "regimes", *CLOCK_ANCHORS}


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def _validate_regimes(regimes, *, tenant_id) -> list[str]:
    unknown = sorted(set(regimes) - regime_codes_for(tenant_id=tenant_id))
    if unknown:
        raise ValidationError({"regimes": [f"Unknown regime code(s): {', '.join(unknown)}."]})
    return sorted(set(regimes))


def _data_protection_regimes_of(tenant: Tenant) -> set[str]:
    """The data-protection regimes the tenant is subject to (its settings' `regimes`): they join an
    incident when it is flagged as a personal-data breach (domain.md, "Which regimes apply")."""
    return set(tenant.settings.get("regimes", [])) & DATA_PROTECTION_REGIMES


def _escalate_if_needed(*, actor, incident: Incident) -> None:
    """An incident at or above the tenant's escalation severity is escalated to its executives, once per
    level reached (the notifications app turns the event into messages)."""
    if not incident.severity:
        return
    threshold = severity_matrix_for(tenant_id=incident.tenant_id).escalate_at
    already = incident.escalated_severity
    if is_at_or_above(incident.severity, threshold) and (
        not already or not is_at_or_above(already, incident.severity)
    ):
        Incident.unscoped.filter(pk=incident.pk).update(escalated_severity=incident.severity)
        incident.escalated_severity = incident.severity
        publish(
            verb="incident.escalated",
            actor=actor,
            target=incident,
            tenant_id=incident.tenant_id,
            incident_id=incident.pk,
            data={"severity": incident.severity, "threshold": threshold},
        )


@transaction.atomic
def incident_declare(
    *,
    actor,
    access: Access,
    tenant: Tenant,
    title: str,
    category: Category | None = None,
    impact: str = "",
    urgency: str = "",
    description: str = "",
    restricted: bool = False,
    owner=None,
    aware_at=None,
    require_scope: bool = True,
) -> Incident:
    """Open an incident. Declared directly by a manager or service account, or by an assessment's
    decision (which checked its own scope: `require_scope=False`)."""
    if require_scope:
        _require(
            access.has_scope(tenant.id, Scope.INCIDENT_DECLARE),
            "You may not declare incidents in this tenant.",
        )
    severity = severity_for(tenant_id=tenant.id, impact=impact, urgency=urgency) if impact or urgency else ""
    now = timezone.now()
    require_past_times({"aware_at": aware_at}, now=now, ahead=ANCHOR_AHEAD)  # apps/core/times.py
    number = next_reference_number(tenant=tenant, kind="incident", year=now.year)
    incident = Incident(
        tenant=tenant,
        reference=f"{tenant.reference_prefix}-{now.year}-{number:04d}",
        title=title,
        description=description,
        category=category,
        impact=impact,
        urgency=urgency,
        severity=severity,
        restricted=restricted,
        owner=owner,
        status=IncidentStatus.DECLARED,
        declared_at=now,
        # When the organisation became aware: the decision time unless stated (GDPR/NIS2 clocks run from it).
        aware_at=aware_at or now,
    )
    validate(incident)
    incident.save(force_insert=True)
    publish(
        verb="incident.declared",
        actor=actor,
        target=incident,
        tenant_id=tenant.id,
        incident_id=incident.pk,
        changes=diff(incident, {}, INCIDENT_FIELDS),
    )
    _escalate_if_needed(actor=actor, incident=incident)
    return incident


def _lock(incident_id) -> Incident:
    return Incident.unscoped.select_for_update().get(pk=incident_id)


def _may_edit(access: Access, incident: Incident, names: set[str], *, granted_change: bool) -> None:
    tenant_id = incident.tenant_id
    for name in names:
        if name in STEERING:
            _require(access.has_scope(tenant_id, Scope.INCIDENT_MANAGE), f"You may not change `{name}`.")
        elif name in CLASSIFYING:
            _require(access.has_scope(tenant_id, Scope.INCIDENT_WRITE), f"You may not change `{name}`.")
        elif name in DESCRIPTIVE:
            _require(
                access.has_scope(tenant_id, Scope.INCIDENT_WRITE) or granted_change,
                f"You may not change `{name}`.",
            )
        else:
            raise ValidationError({name: ["Unknown or read-only field."]})


@transaction.atomic
def incident_update(
    *,
    actor,
    access: Access,
    incident: Incident,
    granted_change: bool = False,
    rationale: str = "",
    **fields,
) -> Incident:
    """Edit an incident's fields. Status never changes here (see incident_transition); a closed incident's
    own fields are frozen. Adding or removing a regime is the notifiability decision (A.5.25): it needs a
    `rationale`, which is recorded with the change."""
    _may_edit(access, incident, set(fields), granted_change=granted_change)
    # The clock anchors: not before the epoch, not more than a year ahead (apps/core/times.py).
    require_past_times({name: fields[name] for name in CLOCK_ANCHORS if name in fields}, ahead=ANCHOR_AHEAD)
    incident = _lock(incident.pk)
    refuse_if_closed(incident.status, what="its fields are frozen")
    before = snapshot(incident, INCIDENT_FIELDS)
    team = fields.pop("team", None)
    if "regimes" in fields:
        fields["regimes"] = _validate_regimes(fields["regimes"], tenant_id=incident.tenant_id)
        if set(fields["regimes"]) != set(incident.regimes) and not rationale.strip():
            raise ValidationError({"rationale": ["Adding or removing a regime needs a rationale."]})
    if fields.get("personal_data_breach") and not incident.personal_data_breach:
        joining = _data_protection_regimes_of(incident.tenant) - set(fields.get("regimes", incident.regimes))
        fields["regimes"] = sorted(set(fields.get("regimes", incident.regimes)) | joining)
    for name, value in fields.items():
        setattr(incident, name, value)
    if {"impact", "urgency"} & set(fields):
        incident.severity = severity_for(
            tenant_id=incident.tenant_id, impact=incident.impact, urgency=incident.urgency
        )
    validate(incident)
    incident.save()
    changes = diff(incident, before, INCIDENT_FIELDS)
    if team is not None:
        changes.update(_set_team(incident, team))
    if not changes:
        return incident
    publish(
        verb="incident.updated",
        actor=actor,
        target=incident,
        tenant_id=incident.tenant_id,
        incident_id=incident.pk,
        changes=changes,
        data={"rationale": rationale} if rationale else None,
    )
    if set(changes) & set(CLOCK_ANCHORS + FLAGS):
        publish(
            verb="incident.flags_changed",
            actor=actor,
            target=incident,
            tenant_id=incident.tenant_id,
            incident_id=incident.pk,
            changes={name: value for name, value in changes.items() if name in CLOCK_ANCHORS + FLAGS},
            data={"rationale": rationale} if rationale else None,
        )
    if "severity" in changes:
        _escalate_if_needed(actor=actor, incident=incident)
    return incident


def _set_team(incident: Incident, users) -> dict:
    wanted = {user.pk: user for user in users}
    current = set(IncidentTeamMember.unscoped.filter(incident=incident).values_list("user_id", flat=True))
    if current == set(wanted):
        return {}
    IncidentTeamMember.unscoped.filter(incident=incident).exclude(user_id__in=wanted).delete()
    IncidentTeamMember.unscoped.bulk_create(
        [
            IncidentTeamMember(tenant_id=incident.tenant_id, incident=incident, user=user)
            for pk, user in wanted.items()
            if pk not in current
        ]
    )
    return {"team": [sorted(str(pk) for pk in current), sorted(str(pk) for pk in wanted)]}


def _validate_decision(to: str, open_actions: str) -> None:
    if open_actions and open_actions not in OpenActionsDecision.values:
        raise ValidationError({"open_actions": [f"One of: {', '.join(OpenActionsDecision.values)}."]})
    if open_actions and to != IncidentStatus.CLOSED:
        raise ValidationError({"open_actions": ["Only a close decides on the open actions."]})


@transaction.atomic
def incident_transition(
    *,
    actor,
    access: Access,
    incident: Incident,
    to: str,
    note: str = "",
    open_actions: str = "",
    reason: str = "",
) -> Incident:
    """Move an incident through its lifecycle: lock, check the table, the role and the guards, change,
    record. A move that is not allowed now raises Conflict (409) with the reason. A close with response
    actions still open needs the closer's decision on them (`open_actions`, apps/response/close.py)."""
    _validate_decision(to, open_actions)
    incident = _lock(incident.pk)
    transition = transition_for(incident.status, to)
    if transition is None:
        allowed = ", ".join(t.target for t in targets_from(incident.status)) or "none"
        raise Conflict(
            f"An incident cannot move from {incident.status} to {to} (from {incident.status}: {allowed}).",
            code="transition_not_allowed",
        )
    _require(
        access.has_scope(incident.tenant_id, transition.scope), f"Your role may not move an incident to {to}."
    )
    blocked = blocker(incident, transition, note)
    if blocked:
        raise Conflict(blocked.reason, code="blocked", details={"fix": blocked.fix} if blocked.fix else None)
    settled = {}
    if to == IncidentStatus.CLOSED:
        settled = settle_open_actions(
            actor=actor, access=access, incident=incident, decision=open_actions, reason=reason
        )
    source = incident.status
    incident.status = to
    now = timezone.now()
    if to in {IncidentStatus.CONTAINED, IncidentStatus.RECOVERED}:
        milestone = f"{to}_at"
        if getattr(incident, milestone) is None:
            setattr(incident, milestone, now)
    if to == IncidentStatus.CLOSED:
        incident.closed_at = now
        incident.false_alarm = transition.verb == "closed_as_false_alarm"
        incident.close_rationale = note
    elif source == IncidentStatus.CLOSED:
        incident.closed_at = None
        incident.false_alarm = False
    incident.save(
        update_fields=[
            "status",
            "contained_at",
            "recovered_at",
            "closed_at",
            "false_alarm",
            "close_rationale",
            "updated_at",
        ]
    )
    publish(
        verb="incident.transitioned",
        actor=actor,
        target=incident,
        tenant_id=incident.tenant_id,
        incident_id=incident.pk,
        changes={"status": [source, to]},
        data={"transition": transition.verb, "note": note, **settled},
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
