"""Roles are code, memberships are data: each role maps to a fixed set of scopes (design.md, Roles)."""

from dataclasses import dataclass

from django.db import models


class Scope:
    REPORT_CREATE = "report:create"
    REPORT_READ_OWN = "report:read_own"
    REPORT_READ = "report:read"
    REPORT_ASSESS = "report:assess"
    REPORTER_IDENTITY = "report:reporter_identity"
    INCIDENT_READ = "incident:read"
    INCIDENT_READ_RESTRICTED = "incident:read_restricted"
    INCIDENT_READ_RESTRICTED_SUMMARY = "incident:read_restricted_summary"
    INCIDENT_DECLARE = "incident:declare"
    INCIDENT_WRITE = "incident:write"
    INCIDENT_TRANSITION = "incident:transition"
    INCIDENT_CLOSE = "incident:close"
    INCIDENT_MANAGE = "incident:manage"
    INCIDENT_SHARE = "incident:share"
    EVIDENCE_WRITE = "evidence:write"
    EVIDENCE_CUSTODY = "evidence:custody"
    OBLIGATION_READ = "obligation:read"
    OBLIGATION_SUBMIT = "obligation:submit"
    OBLIGATION_WAIVE = "obligation:waive"
    REVIEW_WRITE = "review:write"
    REVIEW_APPROVE = "review:approve"
    AUDIT_READ = "audit:read"
    DASHBOARD_READ = "dashboard:read"
    TENANT_READ = "tenant:read"
    TENANT_ADMIN = "tenant:admin"
    MEMBER_READ = "member:read"
    MEMBER_ADMIN = "member:admin"
    CATALOG_ADMIN = "catalog:admin"
    ADMIN_SITE = "admin:site"
    ADMIN_SITE_WRITE = "admin:site_write"


class RoleId(models.TextChoices):
    REPORTER = "reporter", "Reporter"
    HANDLER = "handler", "Handler"
    INVESTIGATOR = "investigator", "Investigator"
    MANAGER = "manager", "Incident manager"
    AUDITOR = "auditor", "Auditor"
    TENANT_ADMIN = "tenant_admin", "Tenant administrator"
    EXECUTIVE = "executive", "Executive"


@dataclass(frozen=True)
class Role:
    id: str
    scopes: frozenset[str]


_MEMBER = frozenset({Scope.REPORT_CREATE, Scope.REPORT_READ_OWN, Scope.TENANT_READ})
_HANDLER = _MEMBER | {
    Scope.REPORT_READ,
    Scope.REPORT_ASSESS,
    Scope.INCIDENT_READ,
    Scope.INCIDENT_WRITE,
    Scope.INCIDENT_TRANSITION,
    Scope.EVIDENCE_WRITE,
    Scope.OBLIGATION_READ,
    Scope.OBLIGATION_SUBMIT,
    Scope.MEMBER_READ,
}
_INVESTIGATOR = _HANDLER | {Scope.EVIDENCE_CUSTODY}
_MANAGER = _INVESTIGATOR | {
    Scope.INCIDENT_READ_RESTRICTED,
    Scope.INCIDENT_DECLARE,
    Scope.INCIDENT_CLOSE,
    Scope.INCIDENT_MANAGE,
    Scope.INCIDENT_SHARE,
    Scope.OBLIGATION_WAIVE,
    Scope.REVIEW_WRITE,
    Scope.REVIEW_APPROVE,
    Scope.REPORTER_IDENTITY,
    Scope.DASHBOARD_READ,
    Scope.ADMIN_SITE,
    Scope.ADMIN_SITE_WRITE,
}
_AUDITOR = _MEMBER | {
    Scope.REPORT_READ,
    Scope.INCIDENT_READ,
    Scope.INCIDENT_READ_RESTRICTED,
    Scope.OBLIGATION_READ,
    Scope.AUDIT_READ,
    Scope.DASHBOARD_READ,
    Scope.MEMBER_READ,
    Scope.ADMIN_SITE,
}
_TENANT_ADMIN = _MEMBER | {
    Scope.TENANT_ADMIN,
    Scope.MEMBER_READ,
    Scope.MEMBER_ADMIN,
    Scope.CATALOG_ADMIN,
    Scope.ADMIN_SITE,
    Scope.ADMIN_SITE_WRITE,
}
_EXECUTIVE = _MEMBER | {
    Scope.INCIDENT_READ,
    Scope.INCIDENT_READ_RESTRICTED_SUMMARY,
    Scope.OBLIGATION_READ,
    Scope.DASHBOARD_READ,
    Scope.MEMBER_READ,
    Scope.ADMIN_SITE,
}

ROLES: dict[str, Role] = {
    RoleId.REPORTER: Role(RoleId.REPORTER, _MEMBER),
    RoleId.HANDLER: Role(RoleId.HANDLER, frozenset(_HANDLER)),
    RoleId.INVESTIGATOR: Role(RoleId.INVESTIGATOR, frozenset(_INVESTIGATOR)),
    RoleId.MANAGER: Role(RoleId.MANAGER, frozenset(_MANAGER)),
    RoleId.AUDITOR: Role(RoleId.AUDITOR, frozenset(_AUDITOR)),
    RoleId.TENANT_ADMIN: Role(RoleId.TENANT_ADMIN, frozenset(_TENANT_ADMIN)),
    RoleId.EXECUTIVE: Role(RoleId.EXECUTIVE, frozenset(_EXECUTIVE)),
}

ALL_SCOPES: frozenset[str] = frozenset().union(*(role.scopes for role in ROLES.values()))
# Platform administrators and system jobs hold every scope but one: a confidential reporter's identity
# is for the managers of that tenant only (ISO 27001 A.6.8), not for whoever runs the platform.
PLATFORM_SCOPES: frozenset[str] = ALL_SCOPES - {Scope.REPORTER_IDENTITY}

# A tenant admin manages members and roles of its tenant, but may not make executives (senior management
# oversight is appointed by platform administrators).
ROLES_ASSIGNABLE_BY_TENANT_ADMIN = frozenset(ROLES) - {RoleId.EXECUTIVE}


def scopes_of(role_id: str) -> frozenset[str]:
    return ROLES[role_id].scopes
