"""Row-level security: the second wall behind the choke point (apps.tenancy.context).

Every tenant-owned table (TenantScopedModel) and every reference table (null tenant = shipped) carries one
policy, `vigil_tenant`, keyed on two transaction-independent session settings that `activate()` writes on
the runtime connection and restores on exit:

- `vigil.tenant_ids`: the tenants of the active context (comma-separated ids); unset or empty = none;
- `vigil.user_id`: the acting person, so that rows of an incident granted to an outsider (django-guardian
  direct grants) and a person's own memberships pass.

The app connects as a role that owns nothing and has no BYPASSRLS (settings, "Database roles"), so a query
that forgot its tenant filter, or ran outside any context, returns nothing and an insert with another
tenant's id is refused by the database. `migrate` (as the owner) applies everything here after every run:
roles, grants, functions and policies are idempotent, and a new tenant-owned model is covered without a
migration of its own (tests/tenancy/test_row_level_security.py checks the catalogue)."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import connections

from config.env import derived_role_password

POLICY = "vigil_tenant"
# Named, not imported: tenancy sits below response (design.md, layers); grants are on incidents.
INCIDENT = "response.Incident"

_FUNCTIONS = """
CREATE OR REPLACE FUNCTION vigil_tenant_ids() RETURNS uuid[] LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(
        string_to_array(nullif(current_setting('vigil.tenant_ids', true), ''), ',')::uuid[], '{}'::uuid[]
    )
$$;
CREATE OR REPLACE FUNCTION vigil_user_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT nullif(current_setting('vigil.user_id', true), '')::uuid
$$;
-- The context is a platform administrator's (`vigil.platform`): rows of no tenant that belong to the
-- platform (its audit chain) are theirs only.
CREATE OR REPLACE FUNCTION vigil_platform() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(current_setting('vigil.platform', true), '') = 'on'
$$;
-- The tenants in context and their ancestors: a membership in a parent tenant covers its descendants.
CREATE OR REPLACE FUNCTION vigil_tenant_lineage() RETURNS uuid[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(DISTINCT ancestor::uuid), '{}'::uuid[])
    FROM tenancy_tenant AS tenant, unnest(string_to_array(trim(both '/' from tenant.path), '/')) AS ancestor
    WHERE tenant.id = ANY (vigil_tenant_ids())
$$;
-- Every tenant a person is tied to (memberships, outsider records), ids only: the one cross-tenant fact a
-- tenant admin's decision needs (may I reset this person's password?). Runs as its owner.
CREATE OR REPLACE FUNCTION vigil_user_tenant_ids(person uuid) RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce(array_agg(tie.tenant_id), '{}'::uuid[]) FROM (
        SELECT tenant_id FROM tenancy_membership WHERE user_id = person
        UNION SELECT tenant_id FROM tenancy_outsider WHERE user_id = person
    ) AS tie
$$;
-- An API token by the exact digest of its key (authentication, ApiToken.with_key): the app's role cannot
-- read key_hash itself (_protect_credentials), so it cannot list the digests. Runs as its owner.
CREATE OR REPLACE FUNCTION vigil_api_token_id(digest text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT id FROM tenancy_apitoken WHERE key_hash = digest
$$;
-- The incidents granted to the acting person (the grant table itself is read only through incidents).
CREATE OR REPLACE FUNCTION vigil_granted_incident_ids() RETURNS uuid[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(grant_row.content_object_id), '{}'::uuid[])
    FROM response_incidentuserobjectpermission AS grant_row
    WHERE grant_row.user_id = vigil_user_id()
$$;
"""

# Each condition is wrapped in a scalar sub-select so PostgreSQL evaluates it once per query (an InitPlan)
# and can use it as an index condition, instead of calling the function for every row.
_IN_CONTEXT = "tenant_id = ANY ((SELECT vigil_tenant_ids())::uuid[])"
_GRANTED_INCIDENT = "{column} = ANY ((SELECT vigil_granted_incident_ids())::uuid[])"
_OWN_ROW = "user_id = (SELECT vigil_user_id())"
_IN_LINEAGE = "tenant_id = ANY ((SELECT vigil_tenant_lineage())::uuid[])"
_PLATFORM_ROW = "tenant_id IS NULL AND (SELECT vigil_platform())"


def protected_models() -> list:
    """Every model whose rows belong to a tenant: tenant-owned rows, tenant additions to reference data, and
    rows of a tenant or of the platform (`rls_platform_rows`: the audit trail)."""
    from apps.tenancy.managers import ReferenceDataManager
    from apps.tenancy.models import TenantScopedModel

    return [
        model
        for model in apps.get_models()
        if not model._meta.proxy
        and model._meta.managed
        and (
            issubclass(model, TenantScopedModel)
            or isinstance(model._default_manager, ReferenceDataManager)
            or getattr(model, "rls_platform_rows", False)
        )
    ]


def read_only_models() -> list:
    """Protected models the app's role may read but never write (`rls_read_only`: the audit trail, appended
    through its own SECURITY DEFINER function, apps/audit/migrations/0005_append_function.py)."""
    return [model for model in protected_models() if getattr(model, "rls_read_only", False)]


def policy_conditions(model) -> tuple[str, str]:
    """(USING, WITH CHECK) of the model's policy."""
    from apps.tenancy.models import Membership

    readable = [_IN_CONTEXT]
    writable = [_IN_CONTEXT]
    if granted := _granted_condition(model):  # an outsider granted the incident reads and writes it
        readable.append(granted)
        writable.append(granted)
    if model is Membership:
        readable.append(_OWN_ROW)  # building a person's Access reads their memberships before any context
        readable.append(_IN_LINEAGE)  # who covers a tenant from above (recipients, reviewers)
    if getattr(model, "rls_platform_rows", False):  # no tenant: the platform's, for platform administrators
        readable.append(_PLATFORM_ROW)
    elif model._meta.get_field("tenant").null:  # reference data: shipped rows (no tenant) are everyone's
        readable.insert(0, "tenant_id IS NULL")
    if getattr(model, "rls_read_only", False):
        writable = ["false"]
    # Wrapped in coalesce(…, false) (apps.core.conditions.checked_per_row): the same filter, but the
    # planner does not plan from it. As plain ORs, PostgreSQL guesses 5 % for each comparison with an
    # InitPlan's array and, times the query's own tenant filter, expects a 20th of a tenant's rows — and
    # sorts them all where it should walk the ordered index (issue 7). The queries filter by tenant
    # themselves (the first wall): estimates and index choice come from them, the policy checks each row.
    using = " OR ".join(f"({c})" for c in readable)
    return f"coalesce({using}, false)", " OR ".join(f"({c})" for c in writable)


def _granted_condition(model) -> str | None:
    """The incident itself, a row of it (an `incident` column), or a row reached through one of those
    (`granted_through`, e.g. custody events through their evidence)."""
    if model._meta.label == INCIDENT:
        return _GRANTED_INCIDENT.format(column="id")
    if column := _incident_column(model):
        return _GRANTED_INCIDENT.format(column=column)
    if through := getattr(model, "granted_through", None):
        field = model._meta.get_field(through)
        granted = _GRANTED_INCIDENT.format(column=_incident_column(field.related_model))
        parent = field.related_model._meta.db_table  # names of our own models, never input
        return f"{field.column} IN (SELECT id FROM {parent} WHERE {granted})"  # noqa: S608
    return None


def _incident_column(model) -> str | None:
    for field in model._meta.concrete_fields:
        if field.is_relation and field.related_model._meta.label == INCIDENT and field.name == "incident":
            return field.column
    return None


def apply(*, using: str) -> None:
    """Roles (when the owner may create them), grants, functions and one policy per protected table."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
        may_create_roles = cursor.fetchone()[0]
        if settings.DATABASES_DERIVE_ROLES and may_create_roles:
            _ensure_role(cursor, settings.DATABASE_RUNTIME_ROLE, bypass=False)
            _ensure_role(cursor, settings.DATABASE_SYSTEM_ROLE, bypass=True)
            runtime_roles = {settings.DATABASE_RUNTIME_ROLE, settings.DATABASE_SYSTEM_ROLE}
        else:
            runtime_roles = {settings.DATABASES[alias]["USER"] for alias in ("default", "system")}
        cursor.execute("SELECT current_user")
        runtime_roles.discard(cursor.fetchone()[0])
        cursor.execute(_FUNCTIONS)
        for role in sorted(runtime_roles):
            _grant(cursor, role, database=connection.settings_dict["NAME"])
        if _app_role() in runtime_roles:  # never the owner's own privileges
            for model in read_only_models():
                _revoke_writes(cursor, _app_role(), table=connection.ops.quote_name(model._meta.db_table))
            _protect_credentials(cursor, _app_role())
        for model in protected_models():
            table = connection.ops.quote_name(model._meta.db_table)
            using_sql, check_sql = policy_conditions(model)
            cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
            cursor.execute(f"CREATE POLICY {POLICY} ON {table} USING ({using_sql}) WITH CHECK ({check_sql})")


def _ensure_role(cursor, name: str, *, bypass: bool) -> None:
    # Quoted literals of our own settings (role names, derived passwords), never of a request.
    role, password = _literal(name), _literal(derived_role_password(settings.SECRET_KEY, name))
    attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE " + ("BYPASSRLS" if bypass else "NOBYPASSRLS")
    # Never touches a role that is a superuser or the one migrating (a misconfigured role name must not
    # demote an administrator). Several test runs may migrate at once on one server: a role another run is
    # creating or altering at that moment is fine (its attributes and password are the same).
    cursor.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {role}) THEN
                EXECUTE format('CREATE ROLE %I {attributes} PASSWORD %L', {role}, {password});
            ELSIF {role} <> current_user AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = {role}) THEN
                EXECUTE format('ALTER ROLE %I {attributes} PASSWORD %L', {role}, {password});
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'vigil: role %: %', {role}, SQLERRM;
        END $$
        """  # noqa: S608
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _app_role() -> str:
    """The role the app runs as (the system jobs' role keeps its writes: it records the chain heads)."""
    if settings.DATABASES_DERIVE_ROLES:
        return settings.DATABASE_RUNTIME_ROLE
    return settings.DATABASES["default"]["USER"]


def _revoke_writes(cursor, role: str, *, table: str) -> None:
    quoted = '"' + role.replace('"', '""') + '"'
    cursor.execute(f"REVOKE INSERT, UPDATE, DELETE ON {table} FROM {quoted}")


def _protect_credentials(cursor, role: str) -> None:
    """Secrets of authentication the app's role cannot list (issue 14): browser sessions are kept in the
    cache (settings.SESSION_ENGINE), never in django_session, which it may not touch; API tokens' digests
    are read only by vigil_api_token_id(), by exact value: it may read every other column of the table.
    (TOTP keys are encrypted at rest with a key the database does not hold: apps/accounts/otp_at_rest.py.)"""
    from apps.tenancy.models import ApiToken

    quoted = '"' + role.replace('"', '""') + '"'
    cursor.execute("SELECT to_regclass('django_session') IS NOT NULL")
    if cursor.fetchone()[0]:
        cursor.execute(f"REVOKE SELECT, INSERT, UPDATE, DELETE ON django_session FROM {quoted}")
    columns = ", ".join(
        f'"{field.column}"' for field in ApiToken._meta.concrete_fields if field.name != "key_hash"
    )
    table = ApiToken._meta.db_table
    cursor.execute(f"REVOKE SELECT ON {table} FROM {quoted}")  # noqa: S608 - our model and role names
    cursor.execute(f"GRANT SELECT ({columns}) ON {table} TO {quoted}")


def _grant(cursor, role: str, *, database: str) -> None:
    quoted = '"' + role.replace('"', '""') + '"'
    privileges = "SELECT, INSERT, UPDATE, DELETE"
    if settings.TESTING:  # transactional tests empty the tables between tests with TRUNCATE
        privileges += ", TRUNCATE"
    cursor.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {quoted}')
    cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
    cursor.execute(f"GRANT {privileges} ON ALL TABLES IN SCHEMA public TO {quoted}")
    cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
    cursor.execute(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {quoted}")
