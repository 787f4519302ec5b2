"""Single sign-on (OpenID Connect), the writes: who the identity provider's person is in Vigil, and which
memberships its groups give them. The protocol side (tokens, signatures, discovery) is apps/tenancy/oidc.py.

- People are found by the (issuer, subject) pair of their ID token (ExternalIdentity), never by e-mail alone.
  On a first sign-in the identity is linked to the one account with the same *verified* e-mail when
  OIDC_LINK_BY_EMAIL is on (never to a platform administrator, staff or service account), else a new account
  is created when OIDC_CREATE_USERS is on (the default); otherwise the sign-in is refused.
- Claims never make anyone superuser or staff: new accounts are plain people with no usable password; names
  (and the e-mail, when the provider says it is verified) follow the provider at each sign-in.
- Group mapping (OIDC_GROUP_ROLES, group=tenant-slug:role): at each sign-in the memberships single sign-on
  manages (source "sso") are brought in line with the groups present in the OIDC_GROUPS_CLAIM claim: added,
  re-roled, or removed when no present group maps to their tenant any more. Memberships assigned by hand are
  never touched, and a mapped group whose tenant already holds a hand-made membership of the person is
  skipped. Unknown groups are ignored. Without a mapping, or when the provider sent no groups claim at all
  (as opposed to an empty list), memberships are left alone.
- Every change goes through the membership and user services, so it is on the audit trail; the events carry
  the channel "sso" and `data.source = "sso"` with the issuer and the group that caused them.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from apps.core.events import publish
from apps.core.origin import current_origin, origin_as
from apps.tenancy.access import Access
from apps.tenancy.context import activate
from apps.tenancy.models import ExternalIdentity, Membership, MembershipSource, Tenant
from apps.tenancy.roles import PLATFORM_SCOPES
from apps.tenancy.services import (
    membership_create,
    membership_delete,
    membership_update,
    user_create,
    user_update,
)

LOGGER = logging.getLogger(__name__)
User = get_user_model()

SSO_CHANNEL = "sso"


class SsoRefused(Exception):
    """The provider vouched for the person, but Vigil does not let them in (see `reason`)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class SsoSignIn:
    user: Any
    identity: ExternalIdentity
    created: bool = False
    linked_by_email: bool = False
    membership_changes: list[dict] = field(default_factory=list)


@contextmanager
def sso_origin():
    """The audit trail shows single sign-on as the channel of everything done here."""
    with origin_as(replace(current_origin(), channel=SSO_CHANNEL)):
        yield


def _acting_for(user, tenant_ids) -> Access:
    """Single sign-on acts with the platform's authority (the mapping is the operator's configuration),
    inside the given tenants only; the person is named so their own memberships are readable."""
    return Access(
        user_id=user.pk if user is not None else None,
        scopes_by_tenant=dict.fromkeys(tenant_ids, PLATFORM_SCOPES),
        is_superuser=True,
    )


def _event_data(issuer: str, **extra) -> dict:
    return {"source": SSO_CHANNEL, "issuer": issuer, **extra}


# --------------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------------


def claim(claims: Mapping, name: str) -> Any:
    """A claim by its exact name (`groups`, `https://example.org/groups`), else by a dotted path into
    nested objects (`realm_access.roles`); None when absent."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def groups_of(claims: Mapping) -> set[str] | None:
    """The groups asserted by the provider, or None when the claim is absent or not a list of names."""
    value = claim(claims, settings.OIDC_GROUPS_CLAIM)
    if isinstance(value, str):
        return {value}
    if isinstance(value, list | tuple):
        return {item for item in value if isinstance(item, str)}
    if value is not None:
        LOGGER.warning(
            "OIDC groups claim %r is neither a list nor a string: ignored", settings.OIDC_GROUPS_CLAIM
        )
    return None


def idp_asserted_mfa(id_token: Mapping) -> bool:
    """Whether the ID token says the person passed multi-factor authentication at the provider: one of its
    `amr` values is in OIDC_MFA_AMR, or its `acr` is one of OIDC_MFA_ACR."""
    amr = id_token.get("amr")
    if isinstance(amr, str):
        amr = [amr]
    if isinstance(amr, list) and any(
        isinstance(value, str) and value in settings.OIDC_MFA_AMR for value in amr
    ):
        return True
    acr = id_token.get("acr")
    return isinstance(acr, str) and acr in settings.OIDC_MFA_ACR


def _verified_email(claims: Mapping) -> str:
    email = claims.get("email")
    verified = claims.get("email_verified")
    # Some providers send the flag as a string.
    if not isinstance(email, str) or not (verified is True or verified == "true"):
        return ""
    try:
        validate_email(email.strip())
    except ValidationError:
        return ""
    return email.strip()


_NOT_USERNAME = re.compile(r"[^\w.@+-]")


def _username_for(claims: Mapping, issuer: str, subject: str) -> str:
    """The provider's preferred username (or the e-mail, or the subject), made a valid Django username;
    when taken, a suffix derived from the identity: never an existing account's name."""
    for candidate in (claims.get("preferred_username"), claims.get("email"), subject):
        base = _NOT_USERNAME.sub("", candidate)[:150] if isinstance(candidate, str) else ""
        if base:
            break
    else:
        base = "sso-user"
    if not User.objects.filter(username__iexact=base).exists():
        return base
    suffix = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()
    for length in (8, 16, 64):
        candidate = f"{base[: 149 - length]}-{suffix[:length]}"
        if not User.objects.filter(username__iexact=candidate).exists():
            return candidate
    raise SsoRefused("username", "No free username for this identity.")


def _profile(claims: Mapping) -> dict[str, str]:
    profile = {}
    for name, key in (("first_name", "given_name"), ("last_name", "family_name")):
        value = claims.get(key)
        if isinstance(value, str):
            profile[name] = value.strip()[:150]
    email = _verified_email(claims)
    if email:
        profile["email"] = email[:254]
    return profile


# --------------------------------------------------------------------------------------------------
# Sign-in
# --------------------------------------------------------------------------------------------------


def _email_taken(email: str, user) -> bool:
    return User.objects.filter(email__iexact=email, is_active=True).exclude(pk=user.pk).exists()


def _new_profile(claims: Mapping) -> dict:
    """A new account's names and e-mail; an address another active person uses stays theirs alone."""
    profile = _profile(claims)
    if profile.get("email") and User.objects.filter(email__iexact=profile["email"], is_active=True).exists():
        del profile["email"]
    return profile


def _link_by_email(claims: Mapping, issuer: str):
    email = _verified_email(claims)
    if not email:
        return None
    candidates = list(User.objects.filter(email__iexact=email)[:2])
    if len(candidates) != 1:
        return None  # none, or ambiguous: never guess
    user = candidates[0]
    if user.is_superuser or user.is_staff or user.is_service_account:
        LOGGER.warning("OIDC: not linking %s by e-mail to a privileged or service account", issuer)
        return None
    if ExternalIdentity.objects.filter(issuer=issuer, user=user).exists():
        return None  # already linked to another subject of this provider
    return user


@transaction.atomic
def sso_sign_in(*, issuer: str, subject: str, claims: Mapping) -> SsoSignIn:
    """Find (or link, or create) the person of a verified ID token and bring their SSO-managed memberships
    in line with the groups. Raises SsoRefused when Vigil does not let them in; everything rolls back then."""
    with sso_origin():
        identity = (
            ExternalIdentity.objects.select_for_update()
            .select_related("user")
            .filter(issuer=issuer, subject=subject)
            .first()
        )
        if identity is None:
            user = _link_by_email(claims, issuer) if settings.OIDC_LINK_BY_EMAIL else None
            if user is not None:
                result = SsoSignIn(user=user, identity=None, linked_by_email=True)
            elif settings.OIDC_CREATE_USERS:
                user = user_create(
                    actor=None,
                    access=_acting_for(None, ()),
                    username=_username_for(claims, issuer, subject),
                    **_new_profile(claims),
                )
                result = SsoSignIn(user=user, identity=None, created=True)
            else:
                raise SsoRefused("no_account", "No Vigil account is linked to this identity.")
            identity = ExternalIdentity.objects.create(user=user, issuer=issuer, subject=subject)
            publish(
                verb="external_identity.linked",
                actor=None,
                target=identity,
                data=_event_data(
                    issuer,
                    subject=subject,
                    user_id=str(user.pk),
                    how="email" if result.linked_by_email else "created",
                ),
            )
            result.identity = identity
        else:
            result = SsoSignIn(user=identity.user, identity=identity)
        user = result.user
        if user.is_service_account:
            raise SsoRefused("service_account", "Service accounts sign in with tokens only.")
        if not user.is_active:
            raise SsoRefused("inactive", "This account is deactivated.")

        profile = {k: v for k, v in _profile(claims).items() if getattr(user, k) != v}
        if "email" in profile and _email_taken(profile["email"], user):
            del profile["email"]  # another active person's address: keep the one this person has
        if profile and not result.created:
            # The provider verified the address (_verified_email): it counts without a link of ours.
            user = user_update(
                actor=None, access=_acting_for(None, ()), user=user, email_verified=True, **profile
            )
            result.user = user

        if settings.OIDC_GROUP_ROLES:
            groups = groups_of(claims)
            if groups is None:
                LOGGER.warning(
                    "OIDC: no %r claim for %s; memberships left alone", settings.OIDC_GROUPS_CLAIM, issuer
                )
            else:
                result.membership_changes = sso_memberships_sync(user=user, groups=groups, issuer=issuer)

        ExternalIdentity.objects.filter(pk=identity.pk).update(last_login_at=timezone.now())
        return result


@transaction.atomic
def sso_memberships_sync(*, user, groups: set[str], issuer: str) -> list[dict]:
    """Add, re-role and remove the person's SSO-managed memberships to match the mapped groups present.
    Returns the changes made ({"tenant", "action", "role", "group"})."""
    mapping = settings.OIDC_GROUP_ROLES
    tenants = {t.slug: t for t in Tenant.objects.filter(slug__in={slug for _, slug, _ in mapping})}
    for slug in sorted({slug for _, slug, _ in mapping} - set(tenants)):
        LOGGER.warning("OIDC_GROUP_ROLES names the unknown tenant slug %r: ignored", slug)

    # The first mapping entry whose group is present decides each tenant's role.
    wanted: dict[Any, tuple[str, str]] = {}
    for group, slug, role in mapping:
        tenant = tenants.get(slug)
        if group in groups and tenant is not None and tenant.pk not in wanted:
            wanted[tenant.pk] = (role, group)

    with sso_origin():
        with activate(_acting_for(user, {t.pk for t in tenants.values()})):
            held = {m.tenant_id: m for m in Membership.unscoped.select_for_update().filter(user=user)}
        changes: list[dict] = []
        with activate(_acting_for(user, set(held) | set(wanted))) as context:
            access = context.access
            for tenant_id, membership in held.items():
                if membership.source != MembershipSource.SSO:
                    continue  # assigned by hand: never ours to change
                want = wanted.get(tenant_id)
                if want is None:
                    membership_delete(
                        actor=None,
                        access=access,
                        membership=membership,
                        data=_event_data(issuer, reason="no mapped group present"),
                    )
                    changes.append({"tenant": tenant_id, "action": "removed", "role": membership.role})
                elif want[0] != membership.role:
                    membership_update(
                        actor=None,
                        access=access,
                        membership=membership,
                        role=want[0],
                        data=_event_data(issuer, group=want[1]),
                    )
                    changes.append(
                        {"tenant": tenant_id, "action": "updated", "role": want[0], "group": want[1]}
                    )
            tenants_by_id = {t.pk: t for t in tenants.values()}
            for tenant_id, (role, group) in wanted.items():
                if tenant_id in held:
                    continue
                membership_create(
                    actor=None,
                    access=access,
                    user=user,
                    tenant=tenants_by_id[tenant_id],
                    role=role,
                    source=MembershipSource.SSO,
                    data=_event_data(issuer, group=group),
                )
                changes.append({"tenant": tenant_id, "action": "added", "role": role, "group": group})
    return changes
