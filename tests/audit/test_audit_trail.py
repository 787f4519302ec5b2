import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.db.utils import DatabaseError

from apps.audit.checkpoints import audit_record_chain_heads
from apps.audit.models import GENESIS_HASH, PLATFORM_CHAIN, AuditEntry
from apps.audit.selectors import audit_chain_verify
from apps.core.events import EventOutsideTransaction, publish
from apps.core.origin import Origin, origin_as
from apps.tenancy.access import access_for
from apps.tenancy.context import activate
from apps.tenancy.services import membership_create, membership_update, tenant_update
from tests.factories import TenantFactory, UserFactory


def _write_three(superuser, tenant):
    access = access_for(superuser)
    with activate(access), transaction.atomic():
        person = UserFactory()
        membership = membership_create(
            actor=superuser, access=access, user=person, tenant=tenant, role="reporter"
        )
        membership_update(actor=superuser, access=access, membership=membership, role="handler")
        tenant_update(actor=superuser, access=access, tenant=tenant, name="Finance & Treasury")
    return person


@pytest.fixture
def chain(superuser, tenant):
    _write_three(superuser, tenant)
    return str(tenant.id)


def test_a_write_records_who_when_which_tenant_what_and_from_where(superuser, tenant):
    with origin_as(Origin(channel="api", ip="203.0.113.7", user_agent="siem/1.0")):
        person = _write_three(superuser, tenant)
    entries = list(AuditEntry.unscoped.filter(chain=str(tenant.id)).order_by("seq"))
    assert [e.verb for e in entries] == ["membership.created", "membership.updated", "tenant.updated"]
    created = entries[0]
    assert created.actor_id == superuser.pk
    assert created.actor_repr == "root"
    assert created.tenant_id == tenant.id
    assert created.target_type == "tenancy.membership"
    assert created.changes == {"user": [None, str(person.pk)], "role": [None, "reporter"]}
    assert (created.channel, created.ip, created.user_agent) == ("api", "203.0.113.7", "siem/1.0")
    assert entries[1].changes == {"role": ["reporter", "handler"]}
    assert entries[2].changes == {"name": ["Finance", "Finance & Treasury"]}


def test_each_tenant_has_its_own_chain_and_platform_rows_theirs(superuser, tenant, other_tenant):
    _write_three(superuser, tenant)
    _write_three(superuser, other_tenant)
    for t in (tenant, other_tenant):
        entries = list(AuditEntry.unscoped.filter(chain=str(t.id)).order_by("seq"))
        assert [e.seq for e in entries] == [1, 2, 3]
        assert entries[0].prev_hash == GENESIS_HASH
        assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(entries))
    with transaction.atomic():
        publish(verb="platform.test", actor=superuser, target=superuser)
    assert AuditEntry.unscoped.get(chain=PLATFORM_CHAIN).tenant_id is None


@pytest.mark.django_db(transaction=True)
def test_events_must_be_published_inside_the_causing_transaction(superuser):
    with pytest.raises(EventOutsideTransaction):
        publish(verb="user.updated", actor=superuser, target=superuser)


def test_the_database_refuses_update_and_delete(chain):
    """The app's role holds no write privilege on the trail; the trigger refuses even the owner."""
    entry = AuditEntry.unscoped.filter(chain=chain).first()
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        AuditEntry.unscoped.filter(pk=entry.pk).update(verb="forged")
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        AuditEntry.unscoped.filter(pk=entry.pk).delete()
    with (
        pytest.raises(DatabaseError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditentry SET actor_repr = 'someone else' WHERE id = %s", [entry.pk])


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_the_owner_too_cannot_update_or_delete(chain):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(using="owner"),
        connections["owner"].cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditentry SET actor_repr = 'someone else' WHERE chain = %s", [chain])
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(using="owner"),
        connections["owner"].cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditentry WHERE chain = %s", [chain])


# Tampering needs the owner's (here a superuser's) connection, and the verifier reads on the system
# connection; both see only committed rows: these tests commit for real.
TAMPERING = pytest.mark.django_db(transaction=True, databases=["default", "owner", "system"])


def _tamper(sql: str, params) -> None:
    """What an attacker with superuser access to the database does: bypass the triggers, then edit. (The
    app's own role can do neither.)"""
    with transaction.atomic(using="owner"), connections["owner"].cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


@TAMPERING
def test_verify_audit_passes_on_an_intact_trail(chain, capsys):
    call_command("verify_audit")
    assert "OK: 1 audit chain(s) intact" in capsys.readouterr().out


@TAMPERING
def test_verify_audit_reports_the_first_edited_row(chain, capsys):
    second = AuditEntry.unscoped.get(chain=chain, seq=2)
    _tamper("UPDATE audit_auditentry SET changes = '{}'::jsonb WHERE id = %s", [second.pk])
    with pytest.raises(CommandError):
        call_command("verify_audit")
    err = capsys.readouterr().err
    assert f"row id {second.pk} (seq 2)" in err
    assert "edited" in err


@TAMPERING
def test_verify_audit_reports_a_removed_row(chain):
    _tamper("DELETE FROM audit_auditentry WHERE chain = %s AND seq = 2", [chain])
    broken = audit_chain_verify(chain=chain)
    assert broken is not None
    assert broken.seq == 2
    assert "missing" in broken.reason


@TAMPERING
def test_recorded_heads_reveal_a_truncated_chain(chain):
    audit_record_chain_heads()
    assert audit_chain_verify(chain=chain) is None
    _tamper("DELETE FROM audit_auditentry WHERE chain = %s AND seq = 3", [chain])
    broken = audit_chain_verify(chain=chain)
    assert broken is not None
    assert "truncated" in broken.reason


def test_a_confidential_event_keeps_the_actor_out_of_the_trail(tenant):
    reporter = UserFactory()
    with transaction.atomic():
        publish(verb="report.created", actor=reporter, target=tenant, tenant_id=tenant.id, confidential=True)
    entry = AuditEntry.unscoped.get(verb="report.created")
    assert entry.actor_id is None
    assert entry.actor_repr == "confidential"
    assert reporter.username not in str(entry.__dict__)


def test_concurrent_chain_appends_do_not_fork(db, superuser):
    tenant = TenantFactory()
    for n in range(5):
        with transaction.atomic():
            publish(verb=f"test.{n}", actor=superuser, target=tenant, tenant_id=tenant.id)
    seqs = list(
        AuditEntry.unscoped.filter(chain=str(tenant.id)).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == [1, 2, 3, 4, 5]
