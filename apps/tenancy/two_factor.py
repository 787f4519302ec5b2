"""Who must pass a second factor, and what a signed-in session still owes (issue 8, "Sign-in and sessions").

Roles are code: holding SECOND_FACTOR_ROLES anywhere, or being staff or a platform administrator, makes
two-factor authentication mandatory; using the admin site needs it whatever the role. Anyone who has set
up an authenticator is asked for it too. Whether the session has passed it is one check,
apps.accounts.second_factor.second_factor_satisfied (a TOTP / recovery code in this session, or a single
sign-on whose provider asserted multi-factor authentication).

The pages and the admin redirect to the step this answers (apps.web.middleware); the API refuses a browser
session that owes it with 403 (apps.tenancy.authentication); the admin site also refuses it on its own
(VigilAdminSite.has_permission). API tokens are their own credential and unaffected; the token endpoint
asks for a code instead (apps.tenancy.api.views.AuthTokenView)."""

from __future__ import annotations

from apps.accounts.second_factor import has_second_factor, second_factor_satisfied
from apps.tenancy.access import Access
from apps.tenancy.roles import RoleId
from apps.tenancy.views import request_access

SECOND_FACTOR_ROLES = frozenset({RoleId.MANAGER, RoleId.TENANT_ADMIN, RoleId.EXECUTIVE})

VERIFY = "verify"  # has an authenticator: enter a code
ENROL = "enrol"  # must have one and has none: set it up


def second_factor_required(user, access: Access) -> bool:
    """Whether the person must use two-factor authentication (their Access lists every membership)."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser or access.is_superuser:
        return True
    return any(role in SECOND_FACTOR_ROLES for role in access.direct_roles.values())


def second_factor_step(request, *, for_admin_site: bool = False) -> str | None:
    """What the signed-in session must do before it may go on: VERIFY, ENROL, or None (nothing: signed out,
    already passed, or neither required nor set up). `for_admin_site`: the admin site needs it of everyone
    who may use it."""
    user = request.user
    if not user.is_authenticated or second_factor_satisfied(request):
        return None
    if has_second_factor(user):
        return VERIFY
    if for_admin_site or second_factor_required(user, request_access(request)):
        return ENROL
    return None
