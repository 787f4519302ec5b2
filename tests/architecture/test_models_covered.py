"""Every model of ours is tenant-owned (TenantScopedModel: NOT NULL tenant, fail-closed manager) or is
listed below with the reason it is not (design rule 1). A new model fails here until someone decides."""

import pytest
from django.apps import apps
from django.db import models

from apps.tenancy.managers import TenantManager
from apps.tenancy.models import TenantScopedModel

GLOBAL_MODELS: dict[str, str] = {
    "notifications.OutboxMessage": (
        "Everything leaving the building, delivered by the relay, a system job that crosses tenants; "
        "`tenant` records whose message it is (nullable for platform messages). Never listed by the API."
    ),
    "notifications.CalendarFeed": (
        "A person's own feed secret, owned by no tenant; read by the secret link and by its owner only, and "
        "the feed itself is built inside the owner's activate()."
    ),
    "notifications.NotificationPreference": (
        "A person's own channel choices per notification type, the same in every tenant; read and written "
        "only for request.user."
    ),
    "core.IdempotencyRecord": (
        "Keyed by the calling user, not a tenant: it stores a response already filtered for that caller and "
        "is only ever read back by the same user (and purged after 24 h)."
    ),
    "accounts.User": (
        "People exist across tenants (memberships are the tenant-owned rows); user lists are scoped through "
        "apps.tenancy.selectors.user_list (members/outsiders of readable tenants)."
    ),
    "tenancy.Tenant": "The tenant itself; tenant lists are scoped by id through the caller's Access.",
    "tenancy.ExternalIdentity": (
        "A person's (issuer, subject) at the OpenID Connect provider, read by single sign-on before anyone "
        "is signed in (apps/tenancy/sso.py); owned by no tenant, never listed by the API."
    ),
    "tenancy.ApiToken": (
        "Authentication reads it before any tenant context exists; its nullable tenant is the binding of a "
        "service-account token, not ownership. Only its SHA-256 is stored."
    ),
    "audit.AuditEntry": (
        "Nullable tenant: platform-level events (tenant and user creation, sign-ins) form their own chain. "
        "Its default manager AuditEntryManager is scoped like TenantManager (fails closed without a context; "
        "the platform chain only for superusers) and `unscoped` is explicit. Behind row-level security too "
        "(rls_platform_rows: the platform chain for platform administrators), read-only for the app's role."
    ),
    "web.SignInThrottle": (
        "Failed sign-ins per (username, address) for the lockout (apps/web/lockout.py): written before "
        "anyone is signed in, so there is no tenant; read only by the sign-in form, never listed."
    ),
    "audit.AuditChainHead": (
        "Daily head of each hash chain, signed (a checkpoint), written by a system task on the system "
        "connection; its nullable tenant is the chain's (null: the platform's), behind row-level security "
        "like the audit rows, listed to auditors by apps.audit.checkpoints.audit_checkpoint_list."
    ),
    "response.IncidentUserObjectPermission": (
        "Guardian direct-FK grant (must subclass guardian's UserObjectPermissionBase). It carries a NOT NULL "
        "tenant column (the incident's) and is only read via the incident, in the grant join of "
        "apps.response.selectors.incident_visible or incident_grant_list of a visible incident."
    ),
    "response.IncidentGroupObjectPermission": (
        "Guardian direct-FK group grant (GroupObjectPermissionBase); NOT NULL tenant column, read only via "
        "its incident."
    ),
    "evidence.IntegritySweep": (
        "The integrity sweep's cursor (one row): platform-level state of a system job that walks every "
        "tenant's evidence; never read or written through the API."
    ),
    "catalog.Category": (
        "Reference data (design rule 1): null tenant = shipped and readable by everyone, a tenant's rows are "
        "its additions; scoped by catalog's ReferenceDataManager."
    ),
    "catalog.Regime": (
        "Reference data: shipped notification regimes (null tenant, built from deadlines.csv) and a tenant's "
        "own; scoped by catalog's ReferenceDataManager."
    ),
    "catalog.RegimeStep": (
        "Reference data: the steps of a regime, carrying their regime's (nullable) tenant; scoped by "
        "catalog's ReferenceDataManager."
    ),
    "catalog.SeverityMatrix": (
        "Reference data: the shipped default matrix has a null tenant, a tenant may override it; scoped by "
        "catalog's ReferenceDataManager."
    ),
}


def _our_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m.__module__.startswith("apps.")]


def _label(model) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def test_every_model_is_tenant_scoped_or_listed_as_global():
    unlisted = sorted(
        _label(m)
        for m in _our_models()
        if not issubclass(m, TenantScopedModel) and _label(m) not in GLOBAL_MODELS
    )
    assert not unlisted, (
        f"Models neither tenant-owned (subclass TenantScopedModel) nor in GLOBAL_MODELS with a reason: "
        f"{unlisted}. Tenant-owned rows need a NOT NULL tenant and the fail-closed manager (design rule 1)."
    )


def test_global_models_list_is_not_stale():
    ours = {_label(m): m for m in _our_models()}
    stale = sorted(label for label in GLOBAL_MODELS if label not in ours)
    assert not stale, f"GLOBAL_MODELS names models that do not exist: {stale}"
    scoped = sorted(label for label in GLOBAL_MODELS if issubclass(ours[label], TenantScopedModel))
    assert not scoped, f"GLOBAL_MODELS lists tenant-scoped models (remove them): {scoped}"


@pytest.mark.parametrize(
    "model", [m for m in _our_models() if issubclass(m, TenantScopedModel)], ids=lambda m: _label(m)
)
def test_tenant_scoped_model_keeps_the_fail_closed_shape(model):
    tenant = model._meta.get_field("tenant")
    assert not tenant.null, "tenant-owned rows have a NOT NULL tenant"
    assert isinstance(model._default_manager, TenantManager), (
        f"{_label(model)}'s default manager is {type(model._default_manager).__name__}, not the fail-closed "
        "TenantManager (was `objects` overridden, or another manager declared first?)"
    )
    assert type(model._meta.managers_map["unscoped"]) is models.Manager, (
        "the explicit escape hatch is `unscoped`"
    )


def test_grant_models_carry_a_not_null_tenant():
    for label in ("response.IncidentUserObjectPermission", "response.IncidentGroupObjectPermission"):
        assert not apps.get_model(label)._meta.get_field("tenant").null, label
