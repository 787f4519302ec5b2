"""The second wall (issue 8, "Isolation, twice"): PostgreSQL row-level security behind the choke point.

These tests run the app's connection exactly as production does (`strict_rls`): outside every tenant
context the database shows nothing. Every request through the test clients in the rest of the suite runs
the same way (tests/production_paths.py), the isolation matrix included."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import DatabaseError, connection, connections, transaction

from apps.catalog.models import Category
from apps.evidence.models import Evidence
from apps.response.models import Incident, IncidentUserObjectPermission, TimelineEntry
from apps.tenancy import rls
from apps.tenancy.access import Access
from apps.tenancy.context import SYSTEM_DATABASE, activate
from apps.tenancy.models import Membership
from tests.factories import IncidentFactory, MembershipFactory, TenantFactory, UserFactory, make_evidence
from tests.system_jobs import system_job

pytestmark = pytest.mark.strict_rls


def _as_platform(tenants):
    return activate(Access.system([tenant.pk for tenant in tenants]))


@pytest.fixture
def two_tenants(db):
    a, b = TenantFactory(name="Alpha"), TenantFactory(name="Bravo")
    with _as_platform([a, b]):
        incidents = {a: IncidentFactory(tenant=a), b: IncidentFactory(tenant=b)}
    return a, b, incidents


def test_the_app_connects_as_a_role_that_owns_nothing_and_cannot_bypass(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        role, superuser, bypass = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM pg_class "
            "WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        owned = cursor.fetchone()[0]
    assert (role, superuser, bypass, owned) == (settings.DATABASE_RUNTIME_ROLE, False, False, 0)


def test_every_tenant_owned_table_has_the_policy(db):
    tables = {model._meta.db_table for model in rls.protected_models()}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relrowsecurity, p.polname IS NOT NULL
            FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid AND p.polname = %s
            WHERE c.relname = ANY(%s)
            """,
            [rls.POLICY, list(tables)],
        )
        state = {name: (enabled, has_policy) for name, enabled, has_policy in cursor.fetchall()}
    assert state == dict.fromkeys(tables, (True, True))
    assert {"response_incident", "evidence_evidence", "tenancy_membership", "catalog_category"} <= tables


def test_the_policies_are_checked_per_row_not_planned_from(db):
    """Wrapped in coalesce(…, false): the planner takes its estimates and index from the query's own
    tenant filter (tests/test_list_plans.py, bench/ at 1M incidents) — see rls.policy_conditions."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, qual FROM pg_policies WHERE policyname = %s", [rls.POLICY])
        quals = dict(cursor.fetchall())
    assert len(quals) == len(rls.protected_models())
    planned_from = [t for t, q in quals.items() if not (q.startswith("COALESCE(") and q.endswith(", false)"))]
    assert planned_from == []


def test_every_table_with_a_tenant_column_is_protected_or_global_by_design(db):
    from tests.architecture.test_models_covered import GLOBAL_MODELS

    protected = {model._meta.db_table for model in rls.protected_models()}
    from django.apps import apps

    global_tables = {apps.get_model(label)._meta.db_table for label in GLOBAL_MODELS}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_name = 'tenant_id'"
        )
        with_tenant = {row[0] for row in cursor.fetchall()}
    assert with_tenant - protected - global_tables == set()


def test_a_query_without_tenant_context_returns_nothing(two_tenants):
    a, b, _ = two_tenants
    assert Incident.unscoped.count() == 0
    with connection.cursor() as cursor:  # raw SQL too: the wall is in the database, not in the ORM
        cursor.execute("SELECT count(*) FROM response_incident")
        assert cursor.fetchone()[0] == 0
    with _as_platform([a, b]):
        assert Incident.unscoped.count() == 2


def test_a_context_sees_its_own_tenants_rows_only(two_tenants):
    a, _, incidents = two_tenants
    with _as_platform([a]):
        # A query that forgot its tenant filter: the database filters anyway.
        assert list(Incident.unscoped.values_list("pk", flat=True)) == [incidents[a].pk]
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM response_incident")
            assert [row[0] for row in cursor.fetchall()] == [incidents[a].pk]
    assert Incident.unscoped.count() == 0, "leaving the context leaves nothing behind"


def test_an_insert_with_another_tenants_id_is_refused_by_the_database(two_tenants):
    a, b, _ = two_tenants
    with _as_platform([a]), pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        IncidentFactory(tenant=b)


def test_an_update_cannot_move_a_row_to_another_tenant(two_tenants):
    a, b, incidents = two_tenants
    with _as_platform([a]), pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        Incident.unscoped.filter(pk=incidents[a].pk).update(tenant_id=b.pk)


def test_another_tenants_rows_cannot_be_changed_or_deleted_by_id(two_tenants):
    a, b, incidents = two_tenants
    with _as_platform([a]):
        assert Incident.unscoped.filter(pk=incidents[b].pk).update(title="mine now") == 0
        assert TimelineEntry.unscoped.filter(incident_id=incidents[b].pk).count() == 0
    with _as_platform([b]):
        assert Incident.unscoped.get(pk=incidents[b].pk).title != "mine now"


def test_a_granted_outsider_reads_the_granted_incident_and_its_children_only(two_tenants):
    a, _, incidents = two_tenants
    outsider = UserFactory()
    with _as_platform([a]):
        evidence = make_evidence(incidents[a])
        IncidentFactory(tenant=a)  # not granted
        IncidentUserObjectPermission.objects.create(
            content_object=incidents[a],
            user=outsider,
            permission=Permission.objects.get(codename="view_incident", content_type__app_label="response"),
            tenant_id=a.pk,
        )
    with activate(Access(user_id=outsider.pk)):  # no tenant at all, only the person
        assert list(Incident.unscoped.values_list("pk", flat=True)) == [incidents[a].pk]
        assert list(Evidence.unscoped.values_list("pk", flat=True)) == [evidence.pk]


def test_people_read_their_own_memberships_and_those_covering_their_tenant(db):
    parent = TenantFactory(name="Group")
    child = TenantFactory(name="Finance", parent=parent)
    sibling = TenantFactory(name="Sales", parent=parent)
    person, boss, stranger = UserFactory(), UserFactory(), UserFactory()
    with _as_platform([parent, child, sibling]):
        mine = MembershipFactory(user=person, tenant=child, role="reporter")
        covering = MembershipFactory(user=boss, tenant=parent, role="manager")
        MembershipFactory(user=stranger, tenant=sibling, role="manager")
    with activate(Access(user_id=person.pk)):
        assert list(Membership.unscoped.values_list("pk", flat=True)) == [mine.pk]
    with _as_platform([child]):
        assert set(Membership.unscoped.values_list("pk", flat=True)) == {mine.pk, covering.pk}


def test_shipped_reference_data_is_readable_by_all_and_writable_by_none(two_tenants):
    a, _, _ = two_tenants
    assert Category.unscoped.filter(tenant__isnull=True).exists(), "shipped rows need no context"
    with _as_platform([a]), pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        Category.unscoped.create(code="shipped-by-the-app", name="No", tenant=None)


@system_job
def test_the_system_connection_crosses_tenants_and_the_app_connection_does_not(db):
    a, b = TenantFactory(), TenantFactory()
    with _as_platform([a, b]):
        IncidentFactory(tenant=a)
        IncidentFactory(tenant=b)
    assert Incident.unscoped.using(SYSTEM_DATABASE).count() == 2
    assert Incident.unscoped.count() == 0
    with connections[SYSTEM_DATABASE].cursor() as cursor:
        cursor.execute("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (True, False)
