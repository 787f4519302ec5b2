"""Writes for tenants, people, memberships and tokens. Every one publishes its domain event in the same
transaction; permission checks live here so the API, the admin and commands share them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from apps.core.events import diff, publish, snapshot
from apps.tenancy import email_verification, four_eyes, signin
from apps.tenancy.access import Access
from apps.tenancy.models import (
    ApiToken,
    Membership,
    MembershipRequest,
    MembershipSource,
    Outsider,
    Tenant,
    hash_token,
)
from apps.tenancy.roles import ROLES_ASSIGNABLE_BY_TENANT_ADMIN, RoleId, Scope

User = get_user_model()

PERSONAL_TOKEN_TTL = timedelta(days=30)
TENANT_FIELDS = ["name", "slug", "parent_id", "time_zone", "country", "reference_prefix", "settings"]
USER_FIELDS = ["username", "email", "first_name", "last_name", "is_active"]


def _require(condition: bool, message: str = "You do not have permission to perform this action.") -> None:
    if not condition:
        raise PermissionDenied(message)


def _tenant_path(parent: Tenant | None, tenant_id) -> str:
    return f"{parent.path if parent else '/'}{tenant_id}/"


@transaction.atomic
def tenant_create(
    *,
    actor,
    access: Access,
    name: str,
    slug: str,
    reference_prefix: str,
    parent: Tenant | None = None,
    time_zone: str = "UTC",
    country: str = "",
    settings: dict | None = None,
) -> Tenant:
    _require(access.is_superuser, "Only platform administrators create tenants.")
    tenant = Tenant(
        name=name,
        slug=slug,
        parent=parent,
        time_zone=time_zone,
        country=country,
        reference_prefix=reference_prefix,
        settings=settings or {},
    )
    tenant.path = _tenant_path(parent, tenant.id)
    tenant.full_clean()
    tenant.save(force_insert=True)
    publish(
        verb="tenant.created",
        actor=actor,
        target=tenant,
        tenant_id=tenant.id,
        changes=diff(tenant, {}, TENANT_FIELDS),
    )
    return tenant


@transaction.atomic
def tenant_update(*, actor, access: Access, tenant: Tenant, **fields) -> Tenant:
    _require(access.has_scope(tenant.id, Scope.TENANT_ADMIN), "You do not administer this tenant.")
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = snapshot(tenant, TENANT_FIELDS)
    # Slug and reference prefix identify the tenant to external systems and in every incident reference.
    for name in ("slug", "reference_prefix"):
        if name in fields and fields[name] != getattr(tenant, name):
            _require(access.is_superuser, f"Only platform administrators change a tenant's {name}.")
    if "parent" in fields:
        _require(access.is_superuser, "Only platform administrators move tenants.")
        parent = fields.pop("parent")
        if parent is not None and parent.path.startswith(tenant.path):
            raise ValidationError({"parent": ["A tenant cannot be moved under itself or its descendants."]})
        tenant.parent = parent
    for name, value in fields.items():
        if name not in TENANT_FIELDS:
            raise ValidationError({name: ["Unknown or read-only field."]})
        setattr(tenant, name, value)
    tenant.full_clean()
    old_path, new_path = tenant.path, _tenant_path(tenant.parent, tenant.id)
    tenant.path = new_path
    tenant.save()
    if old_path != new_path:
        # Re-root the whole subtree in one statement.
        Tenant.objects.filter(path__startswith=old_path).exclude(pk=tenant.pk).update(
            path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1))
        )
    changes = diff(tenant, before, TENANT_FIELDS)
    if changes:
        publish(verb="tenant.updated", actor=actor, target=tenant, tenant_id=tenant.id, changes=changes)
    return tenant


def _check_role_assignable(access: Access, tenant: Tenant, role: str) -> None:
    if role not in RoleId.values:
        raise ValidationError({"role": [f"Unknown role {role!r}; one of: {', '.join(RoleId.values)}."]})
    if access.is_superuser:
        return
    _require(access.has_scope(tenant.id, Scope.MEMBER_ADMIN), "You do not manage the members of this tenant.")
    _require(role in ROLES_ASSIGNABLE_BY_TENANT_ADMIN, "Only platform administrators appoint executives.")


@transaction.atomic
def membership_create(
    *,
    actor,
    access: Access,
    user,
    tenant: Tenant,
    role: str,
    source: str = MembershipSource.MANUAL,
    data: Mapping | None = None,
) -> Membership | MembershipRequest:
    """`source` "sso" marks a membership that single sign-on manages (apps/tenancy/sso.py); `data` is
    recorded with the event (e.g. which identity-provider group caused it).

    A membership that widens the actor's own access is not created: the pending MembershipRequest that
    waits for a second administrator is returned instead (apps/tenancy/four_eyes.py)."""
    _check_role_assignable(access, tenant, role)
    if Membership.unscoped.filter(user=user, tenant=tenant).exists():
        raise ValidationError(
            {"user": ["This user is already a member of this tenant; change the role instead."]}
        )
    if four_eyes.widens_own_access(actor=actor, user=user, tenant=tenant, role=role):
        return four_eyes.membership_request_open(actor=actor, user=user, tenant=tenant, role=role)
    membership = Membership.unscoped.create(user=user, tenant=tenant, role=role, source=source)
    changes = {"user": [None, str(user.pk)], "role": [None, role]}
    if source != MembershipSource.MANUAL:
        changes["source"] = [None, source]
    publish(
        verb="membership.created",
        actor=actor,
        target=membership,
        tenant_id=tenant.id,
        changes=changes,
        data=data,
    )
    return membership


@transaction.atomic
def membership_update(
    *, actor, access: Access, membership: Membership, role: str, data: Mapping | None = None
) -> Membership | MembershipRequest:
    """A new role; one that widens the actor's own access returns a pending MembershipRequest instead."""
    membership = Membership.unscoped.select_for_update().get(pk=membership.pk)
    _check_role_assignable(access, membership.tenant, role)
    if not access.is_superuser:
        _require(membership.role != RoleId.EXECUTIVE, "Only platform administrators change executives.")
    if role != membership.role and four_eyes.widens_own_access(
        actor=actor, user=membership.user, tenant=membership.tenant, role=role
    ):
        return four_eyes.membership_request_open(
            actor=actor, user=membership.user, tenant=membership.tenant, role=role, membership=membership
        )
    before = snapshot(membership, ["role"])
    membership.role = role
    membership.save(update_fields=["role"])
    changes = diff(membership, before, ["role"])
    if changes:
        publish(
            verb="membership.updated",
            actor=actor,
            target=membership,
            tenant_id=membership.tenant_id,
            changes=changes,
            data=data,
        )
    return membership


@transaction.atomic
def membership_delete(*, actor, access: Access, membership: Membership, data: Mapping | None = None) -> None:
    _check_role_assignable(access, membership.tenant, membership.role)
    publish(
        verb="membership.deleted",
        actor=actor,
        target=membership,
        tenant_id=membership.tenant_id,
        changes={"user": [str(membership.user_id), None], "role": [membership.role, None]},
        data={**(data or {}), "user_id": str(membership.user_id)},
    )
    Membership.unscoped.filter(pk=membership.pk).delete()


def _admin_tenant_for_new_user(access: Access, tenant: Tenant | None) -> Tenant | None:
    if access.is_superuser:
        return tenant
    if tenant is None:
        raise ValidationError(
            {"tenant": ["Required: the tenant whose member or outsider this person becomes."]}
        )
    _require(access.has_scope(tenant.id, Scope.MEMBER_ADMIN), "You do not manage the members of this tenant.")
    return tenant


@transaction.atomic
def user_create(
    *,
    actor,
    access: Access,
    username: str,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    tenant: Tenant | None = None,
    role: str | None = None,
    is_active: bool = True,
    is_service_account: bool = False,
):
    """Platform admins create anyone; tenant admins create their tenant's members (with `role`) and
    outsiders (without: visible to the tenant so objects can be granted to them)."""
    tenant = _admin_tenant_for_new_user(access, tenant)
    if role and tenant is None:
        raise ValidationError({"tenant": ["Required with a role."]})
    if role:
        _check_role_assignable(access, tenant, role)
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_active=is_active,
        is_service_account=is_service_account,
    )
    if password:
        validate_password_for(user, password)
        user.set_password(password)
    else:
        user.set_unusable_password()
    email_verification.email_check_free(email=email)
    user.full_clean(exclude=["password"])
    user.save(force_insert=True)
    publish(
        verb="user.created",
        actor=actor,
        target=user,
        tenant_id=tenant.id if tenant else None,
        changes=diff(user, {}, USER_FIELDS),
    )
    if tenant is not None and role:
        membership_create(actor=actor, access=access, user=user, tenant=tenant, role=role)
    elif tenant is not None:
        outsider = Outsider.unscoped.create(user=user, tenant=tenant)
        publish(verb="outsider.created", actor=actor, target=outsider, tenant_id=tenant.id)
    return user


def validate_password_for(user, password: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


def _may_administer_user(access: Access, user) -> bool:
    if access.is_superuser:
        return True
    if user.is_superuser or user.is_staff:
        return False
    # Only people who belong nowhere else: a tenant admin must not reach (reset the password of) someone
    # who also holds a role in a tenant it does not manage.
    # Row-level security hides the other tenants' rows, so the database answers this one question itself
    # (apps.tenancy.rls, vigil_user_tenant_ids).
    admin_tenants = access.tenants_with(Scope.MEMBER_ADMIN)
    with connection.cursor() as cursor:
        cursor.execute("SELECT vigil_user_tenant_ids(%s)", [user.pk])
        ties = cursor.fetchone()[0]
    return bool(ties) and all(tenant_id in admin_tenants for tenant_id in ties)


def _check_current_password(user, current_password: str | None) -> None:
    """Wrong ones count against the account's sign-in lock (apps/tenancy/signin.py)."""
    if not current_password:
        raise ValidationError(
            {"current_password": ["Required: your current password, to change your own password or e-mail."]}
        )
    wait = signin.account_locked_for(username=user.get_username())
    if wait is not None:
        raise ValidationError(
            {
                "current_password": [
                    f"Too many wrong passwords: try again in {math.ceil(wait / 60)} minute(s)."
                ]
            }
        )
    if not user.check_password(current_password):
        signin.account_failed(username=user.get_username())
        raise ValidationError({"current_password": ["This is not your current password."]})


@transaction.atomic
def user_update(
    *,
    actor,
    access: Access,
    user,
    password: str | None = None,
    current_password: str | None = None,
    email_verified: bool = False,
    **fields,
):
    """A changed password (or a deactivation) ends every session and token of the person
    (accounts.User.credentials_changed_at). One's own password or e-mail changes only with the current
    password. A new e-mail address counts once confirmed through the link sent to it
    (apps/tenancy/email_verification.py), unless the caller vouches for it (`email_verified`: single sign-on,
    whose provider verified it)."""
    own = actor is not None and actor.pk == user.pk
    _require(_may_administer_user(access, user) or own, "You may not change this user.")
    user = User.objects.select_for_update().get(pk=user.pk)
    new_email = fields.pop("email", None)
    email_changes = new_email is not None and new_email.lower() != user.email.lower()
    if own and (password or email_changes):
        _check_current_password(user, current_password)
    if new_email is not None and (not email_changes or not new_email or email_verified):
        email_verification.email_check_free(email=new_email, user=user)
        fields["email"] = new_email  # the same address (its case), none, or verified by the provider
    elif email_changes:
        email_verification.user_email_change_request(actor=actor, user=user, email=new_email)
    before = snapshot(user, USER_FIELDS)
    for name, value in fields.items():
        if name not in USER_FIELDS:
            raise ValidationError({name: ["Unknown or read-only field."]})
        if name == "is_active":
            _require(_may_administer_user(access, user), "You may not (de)activate this user.")
        setattr(user, name, value)
    if user.is_active and not before["is_active"]:
        email_verification.email_check_free(email=user.email, user=user)  # reactivated
    if password:
        validate_password_for(user, password)
        user.set_password(password)
    user.full_clean(exclude=["password"])
    ended_before = user.credentials_changed_at
    user.save()
    changes = diff(user, before, USER_FIELDS)
    if password:
        changes["password"] = ["(set)", "(changed)"]
    if changes:
        # Say so when the save ended the person's sessions and tokens (accounts.User.save).
        ended = {"sessions_and_tokens_ended": True} if user.credentials_changed_at != ended_before else {}
        publish(verb="user.updated", actor=actor, target=user, changes=changes, data=ended)
    return user


@transaction.atomic
def token_create(
    *,
    actor,
    user,
    name: str,
    tenant: Tenant | None = None,
    role: str = "",
    ttl: timedelta | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its key, which is returned once and never stored."""
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_hash=hash_token(key),
        key_prefix=key[:10],
        tenant=tenant,
        role=role,
        expires_at=timezone.now() + ttl if ttl else None,
    )
    publish(
        verb="token.created",
        actor=actor,
        target=token,
        tenant_id=tenant.id if tenant else None,
        data={"user_id": str(user.pk), "role": role, "expires_at": str(token.expires_at)},
    )
    return token, key


@transaction.atomic
def service_account_create(
    *, actor, access: Access, tenant: Tenant, role: str, name: str
) -> tuple[object, ApiToken, str]:
    """A machine identity for an external system: one membership, one tenant-bound token capped at its
    role."""
    user = user_create(
        actor=actor,
        access=access,
        username=f"svc-{tenant.slug}-{name}"[:150],
        first_name=name[:150],
        tenant=tenant,
        role=role,
        is_service_account=True,
    )
    token, key = token_create(actor=actor, user=user, name=name, tenant=tenant, role=role)
    return user, token, key


@transaction.atomic
def token_revoke(*, actor, token: ApiToken) -> ApiToken:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    publish(verb="token.revoked", actor=actor, target=token, tenant_id=token.tenant_id)
    return token


def next_reference_number(*, tenant: Tenant, kind: str, year: int) -> int:
    """Gap-free per-tenant, per-year counters for human references (FIN-2026-0042)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO tenancy_referencecounter (tenant_id, kind, year, last)
            VALUES (%s, %s, %s, 1)
            ON CONFLICT (tenant_id, kind, year) DO UPDATE SET last = tenancy_referencecounter.last + 1
            RETURNING last
            """,
            [tenant.id, kind, year],
        )
        return cursor.fetchone()[0]
