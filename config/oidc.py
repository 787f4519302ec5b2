"""Parsing of the single sign-on settings that are more than a string (config/settings.py reads them).

OIDC_GROUP_ROLES maps identity-provider groups to memberships: `group=tenant-slug:role` entries separated by
commas, e.g. `vigil-it-handlers=it:handler,vigil-hr-managers=hr:manager`. Group names that contain commas
(LDAP distinguished names) are written with semicolons between the entries instead: when the value contains
a `;`, only `;` separates. The last `=` of an entry splits group from target (slugs and roles have none), so
`cn=handlers,ou=groups=it:handler` works. A group may map to several tenants (one entry each); where several
present groups map to the same tenant, the entry listed first wins."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


def parse_group_roles(raw: str) -> tuple[tuple[str, str, str], ...]:
    """(group, tenant slug, role) triples, in the order written; ImproperlyConfigured on a bad entry."""
    if not raw.strip():
        return ()
    from apps.tenancy.roles import RoleId  # roles are plain choices: safe to import while settings load

    separator = ";" if ";" in raw else ","
    entries: list[tuple[str, str, str]] = []
    for item in raw.replace("\n", separator).split(separator):
        item = item.strip()
        if not item:
            continue
        group, equals, target = item.rpartition("=")
        slug, colon, role = target.partition(":")
        group, slug, role = group.strip(), slug.strip(), role.strip()
        if not (equals and colon and group and slug and role):
            raise ImproperlyConfigured(
                f"OIDC_GROUP_ROLES: {item!r} is not of the form group=tenant-slug:role "
                "(e.g. vigil-it-handlers=it:handler)."
            )
        if role not in RoleId.values:
            raise ImproperlyConfigured(
                f"OIDC_GROUP_ROLES: unknown role {role!r} in {item!r}; one of: {', '.join(RoleId.values)}."
            )
        if (group, slug) in {(g, s) for g, s, _ in entries}:
            raise ImproperlyConfigured(f"OIDC_GROUP_ROLES: group {group!r} maps to tenant {slug!r} twice.")
        entries.append((group, slug, role))
    return tuple(entries)


SIGN_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")


def check_provider_settings(*, discovery_url: str, endpoints: dict[str, str], sign_algo: str) -> None:
    """With single sign-on on: a discovery URL or every endpoint, and an algorithm checked against the
    provider's published keys (JWKS) — never a shared secret, never `none`."""
    missing = [name for name, value in endpoints.items() if not value]
    if not discovery_url and missing:
        raise ImproperlyConfigured(
            "OIDC_RP_CLIENT_ID is set: set OIDC_OP_DISCOVERY_URL, or every one of " + ", ".join(missing) + "."
        )
    if sign_algo not in SIGN_ALGORITHMS:
        raise ImproperlyConfigured(
            f"OIDC_RP_SIGN_ALGO {sign_algo!r} is not supported; one of: {', '.join(SIGN_ALGORITHMS)} "
            "(ID tokens are verified against the provider's JWKS)."
        )
