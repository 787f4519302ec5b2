"""The audit trail behind the second wall (issue 14): row-level security on audit_auditentry and the
recorded heads, appends only through the database's append function, the verifier on the system
connection. Run as production runs the app's connection (`strict_rls`): outside every context the
database shows nothing."""

import json

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction

from apps.audit.checkpoints import audit_record_chain_heads
from apps.audit.models import PLATFORM_CHAIN, AuditChainHead, AuditEntry
from apps.core.events import publish
from apps.tenancy.access import Access, access_for
from apps.tenancy.context import SYSTEM_DATABASE, activate
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.strict_rls

SYSTEM_JOB = pytest.mark.django_db(transaction=True, databases=["default", "system"])


def _raw_chains() -> list[str]:
    """What the app's role reads with raw SQL: no ORM filter, only the database's policy."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT chain FROM audit_auditentry ORDER BY chain")
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def trail(db):
    """Rows on three chains: tenants A and B, and the platform's."""
    a, b = TenantFactory(name="Alpha"), TenantFactory(name="Bravo")
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    auditor_a = UserFactory(username="auditor-a")
    with activate(Access.system([a.pk, b.pk])):
        MembershipFactory(user=auditor_a, tenant=a, role="auditor")
    with transaction.atomic():
        for tenant in (a, b):
            publish(verb="test.event", actor=root, target=tenant, tenant_id=tenant.pk)
        publish(verb="platform.event", actor=root, target=root)
    return {"a": a, "b": b, "root": root, "auditor_a": auditor_a}


def test_outside_every_context_the_app_role_reads_no_chain(trail):
    assert _raw_chains() == []
    assert AuditEntry.unscoped.count() == 0


def test_a_context_reads_its_tenants_chains_only_and_not_the_platforms(trail):
    with activate(access_for(trail["auditor_a"])):
        assert _raw_chains() == [str(trail["a"].pk)]
        assert set(AuditEntry.unscoped.values_list("chain", flat=True)) == {str(trail["a"].pk)}


def test_the_platform_chain_is_for_platform_administrators(trail):
    with activate(access_for(trail["root"])):
        assert _raw_chains() == sorted([str(trail["a"].pk), str(trail["b"].pk), PLATFORM_CHAIN])
    # Every tenant, yet no platform administrator: no platform chain.
    with activate(Access.system([trail["a"].pk, trail["b"].pk])):
        assert PLATFORM_CHAIN not in _raw_chains()


def test_the_app_role_cannot_insert_into_the_trail_directly(trail):
    with (
        activate(access_for(trail["root"])),
        pytest.raises(DatabaseError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO audit_auditentry (chain, seq, at, actor_repr, verb, target_type, target_id, "
            "target_repr, changes, data, channel, user_agent, confidential, prev_hash, hash, mac, mac_key) "
            "VALUES ('platform', 99, now(), 'x', 'forged', 'x', 'x', 'x', '{}', '{}', 'api', '', false, "
            "'0', '0', '', '')"
        )


def test_the_append_function_refuses_a_row_that_does_not_extend_its_chain(trail):
    a = trail["a"]
    forged = {
        "chain": str(a.pk),
        "tenant_id": str(a.pk),
        "seq": 1,  # the chain's head is 1 already
        "at": "2026-01-01T00:00:00+00:00",
        "prev_hash": "0" * 64,
        "hash": "f" * 64,
        "mac": "e" * 64,
        "mac_key": "d" * 16,
        "actor_repr": "x",
        "verb": "forged",
        "target_type": "x",
        "target_id": "x",
        "target_repr": "x",
        "channel": "api",
    }
    with (
        pytest.raises(DatabaseError, match="does not extend chain"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT vigil_audit_append(%s::jsonb)", [json.dumps(forged)])
    with (
        pytest.raises(DatabaseError, match="is not the chain of tenant"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT vigil_audit_append(%s::jsonb)", [json.dumps({**forged, "chain": str(trail["b"].pk)})]
        )


def test_an_event_outside_the_acting_context_is_recorded_in_the_publishing_transaction(trail):
    """Appends do not depend on what the acting context may read (a sign-in failure has no context, a
    tenant admin's change may concern a chain it does not read), and roll back with the change."""
    a, b = trail["a"], trail["b"]
    with activate(access_for(trail["auditor_a"])):
        with transaction.atomic():
            publish(verb="test.elsewhere", actor=trail["auditor_a"], target=b, tenant_id=b.pk)
        with transaction.atomic():
            publish(verb="test.rolled_back", actor=trail["auditor_a"], target=a, tenant_id=a.pk)
            transaction.set_rollback(True)
    with activate(access_for(trail["root"])):
        assert list(AuditEntry.unscoped.filter(chain=str(b.pk)).values_list("verb", "seq")) == [
            ("test.event", 1),
            ("test.elsewhere", 2),
        ]
        assert not AuditEntry.unscoped.filter(verb="test.rolled_back").exists()
        assert AuditEntry.unscoped.filter(chain=str(a.pk)).count() == 1


@SYSTEM_JOB
def test_recorded_heads_are_behind_the_wall_too_and_verified_on_the_system_connection(trail, capsys):
    assert audit_record_chain_heads() == 3
    assert AuditChainHead.objects.count() == 0
    with activate(access_for(trail["auditor_a"])):
        assert list(AuditChainHead.objects.values_list("chain", flat=True)) == [str(trail["a"].pk)]
    assert AuditChainHead.objects.using(SYSTEM_DATABASE).count() == 3
    call_command("verify_audit")  # reads all three chains though the app's role reads none here
    assert "OK: 3 audit chain(s) intact" in capsys.readouterr().out
    with connections[SYSTEM_DATABASE].cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(current_user, 'audit_auditentry', 'INSERT')")
        assert cursor.fetchone() == (True,)  # the system role keeps its privileges; the app's role has none
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_table_privilege(current_user, 'audit_auditentry', 'INSERT'), "
            "has_table_privilege(current_user, 'audit_auditchainhead', 'INSERT')"
        )
        assert cursor.fetchone() == (False, False)
