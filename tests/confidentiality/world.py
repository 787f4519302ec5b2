"""The confidentiality matrix's world: one department with both secret classes (seeded by seed.py), its
viewers and who of them may meet which secret. Each secret is a unique marker string.

Secret classes:
- RESTRICTED: the hidden fields and children of a restricted (need-to-know) incident. Only viewers who see
  it in full may meet them: its tenant's managers and auditors, and platform administrators.
- REPORTER: a confidential reporter's identity. Only viewers holding REPORTER_IDENTITY for the tenant (its
  managers) and the reporter itself may meet it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from rest_framework.test import APIClient

from apps.notifications.models import Notification
from apps.tenancy.roles import RoleId

RESTRICTED = "restricted"
REPORTER = "reporter"
CONTROL = "control"  # markers of a non-confidential twin: they must be found (the search reaches there)

PLATFORM_ADMIN = "platform_admin"
GROUP_EXECUTIVE = "group_executive"
OUTSIDER = "outsider"
CONFIDENTIAL_REPORTER = "confidential_reporter"
TENANT_ROLES = [role.value for role in RoleId]
VIEWERS = [*TENANT_ROLES, GROUP_EXECUTIVE, OUTSIDER, PLATFORM_ADMIN, CONFIDENTIAL_REPORTER]

# Who may meet each secret class (everyone else must not, anywhere).
ALLOWED: dict[str, frozenset[str]] = {
    RESTRICTED: frozenset({RoleId.MANAGER.value, RoleId.AUDITOR.value, PLATFORM_ADMIN}),
    REPORTER: frozenset({RoleId.MANAGER.value, CONFIDENTIAL_REPORTER}),
    CONTROL: frozenset(VIEWERS),
}

REPORTER_IP = "203.0.113.77"  # TEST-NET-3: appears nowhere else
TWIN_IP = "198.51.100.42"  # TEST-NET-2


def token(label: str) -> str:
    return f"zq{label}{secrets.token_hex(5)}"


@dataclass(frozen=True)
class Marker:
    secret: str
    what: str
    value: str


@dataclass
class World:
    tenant: Any
    group: Any
    users: dict[str, Any]
    tokens: dict[str, str]
    markers: list[Marker]
    objects: dict[str, list] = field(default_factory=dict)  # isolation-matrix recipe key -> objects
    incidents: dict[str, Any] = field(default_factory=dict)
    reports: dict[str, Any] = field(default_factory=dict)

    def api_client(self, viewer: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {self.tokens[viewer]}")
        return client

    def marker(self, what: str) -> str:
        return next(m.value for m in self.markers if m.what == what)


class Markers:
    def __init__(self) -> None:
        self.items: list[Marker] = []

    def new(self, secret: str, what: str, value: str | None = None) -> str:
        value = value or token(what.split()[0][:8].lower())
        self.items.append(Marker(secret, what, value.lower()))
        return value


def notifications_of(user) -> list:
    return list(Notification.unscoped.filter(user=user))
