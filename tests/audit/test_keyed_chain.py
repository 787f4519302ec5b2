"""The keyed chain (issue 14): every row's SHA-256 hash is keyed (HMAC-SHA256, `mac`) with a key the
database does not hold, so a row that the app's own database role appends, however correctly hashed, makes
`verify_audit` say broken. Rows from before the key stay verifiable."""

import hashlib
import hmac
import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from apps.audit import keys
from apps.audit.models import AuditEntry
from apps.audit.selectors import audit_chain_verify
from apps.core.events import publish
from config.env import env_secret
from tests.factories import TenantFactory, UserFactory

COMMITTED = pytest.mark.django_db(transaction=True, databases=["default", "owner", "system"])


def _events(tenant, actor, *verbs):
    with transaction.atomic():
        for verb in verbs:
            publish(verb=verb, actor=actor, target=tenant, tenant_id=tenant.pk)


@pytest.fixture
def chain(db):
    tenant = TenantFactory(name="Finance")
    _events(tenant, UserFactory(username="fin-manager"), "test.first", "test.second")
    return tenant


def _forged_row(tenant, **overrides) -> dict:
    """What someone with the app's database credentials can compute: the next seq, the head's hash, and a
    correct SHA-256 of the content (the algorithm is public), but no HMAC without the chain key."""
    head = AuditEntry.unscoped.filter(chain=str(tenant.pk)).order_by("-seq").first()
    forged = AuditEntry(
        chain=head.chain,
        seq=head.seq + 1,
        at=head.at,
        tenant_id=tenant.pk,
        actor_id=None,
        actor_repr="fin-manager",
        verb="evidence.transferred",
        target_type="evidence.evidence",
        target_id="1",
        target_repr="forged custody transfer",
        incident_id=None,
        changes={"to_holder": ["someone", "attacker"]},
        data={},
        channel="api",
        ip=None,
        user_agent="",
        confidential=False,
        prev_hash=head.hash,
    )
    forged.hash = forged.compute_hash()
    row = {
        field: getattr(forged, field)
        for field in ("chain", "seq", "tenant_id", "actor_repr", "verb", "target_type", "target_id")
    }
    row.update(
        target_repr=forged.target_repr,
        changes=forged.changes,
        data={},
        channel="api",
        user_agent="",
        confidential=False,
        at=forged.at.isoformat(),
        prev_hash=forged.prev_hash,
        hash=forged.hash,
        mac=hmac.new(b"a guessed key", forged.hash.encode(), hashlib.sha256).hexdigest(),
        mac_key=head.mac_key,  # copied from the real rows
    )
    row.update(overrides)
    return row


def _append_as_app_role(row: dict) -> None:
    """Raw SQL on the app's (runtime role's) connection: the only insert path it has."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] != connections["owner"].settings_dict["USER"]
        cursor.execute("SELECT vigil_audit_append(%s::jsonb)", [json.dumps(row, default=str)])


def test_every_row_is_keyed_with_the_configured_chain_key(chain):
    rows = list(AuditEntry.unscoped.filter(chain=str(chain.pk)).order_by("seq"))
    assert [row.mac_key for row in rows] == [keys.chain_key_id()] * 2
    for row in rows:
        assert row.mac == hmac.new(_configured_key(), row.hash.encode(), hashlib.sha256).hexdigest()
        assert row.hash == row.compute_hash()  # still plain SHA-256: extracts verify without the key


def _configured_key() -> bytes:
    from django.conf import settings

    return settings.AUDIT_CHAIN_KEY


@COMMITTED
def test_a_correctly_hashed_row_appended_by_the_app_role_makes_verify_audit_say_broken(chain, capsys):
    _append_as_app_role(_forged_row(chain))
    forged = AuditEntry.unscoped.get(chain=str(chain.pk), seq=3)
    assert forged.hash == forged.compute_hash(), "the forgery is a correctly SHA-256-hashed row"
    with pytest.raises(CommandError, match="1 of 1 audit chain"):
        call_command("verify_audit")
    err = capsys.readouterr().err
    assert f"row id {forged.pk} (seq 3)" in err
    assert "mac does not match" in err


@COMMITTED
def test_the_app_role_cannot_append_a_row_without_a_mac(chain):
    with pytest.raises(DatabaseError, match="needs its mac"):
        _append_as_app_role(_forged_row(chain, mac="", mac_key=""))
    assert audit_chain_verify(chain=str(chain.pk)) is None


@COMMITTED
def test_rows_from_before_the_key_still_verify_and_none_can_follow_keyed_rows(db):
    """Migration 0004 added the mac: rows written before it have none and verify by their SHA-256 chain.
    A row without a mac after the first keyed one is refused by the verifier (the database's append
    function already refuses it; only the tables' owner could write one)."""
    tenant = TenantFactory(name="Legacy")
    legacy = AuditEntry(
        chain=str(tenant.pk),
        seq=1,
        tenant_id=tenant.pk,
        actor_repr="old",
        verb="legacy.event",
        target_type="tenancy.tenant",
        target_id=str(tenant.pk),
        target_repr="Legacy",
        channel="api",
        prev_hash="0" * 64,
    )
    legacy.at = timezone.now()
    legacy.hash = legacy.compute_hash()
    with transaction.atomic(using="owner"):
        legacy.save(using="owner", force_insert=True)  # as a row from before the key (mac empty)
    _events(tenant, UserFactory(), "test.after_the_key")
    assert audit_chain_verify(chain=str(tenant.pk)) is None

    late = AuditEntry.unscoped.using("owner").get(chain=str(tenant.pk), seq=2)
    unkeyed = AuditEntry(**{f.attname: getattr(late, f.attname) for f in AuditEntry._meta.concrete_fields})
    unkeyed.pk, unkeyed.seq, unkeyed.prev_hash, unkeyed.mac, unkeyed.mac_key = None, 3, late.hash, "", ""
    unkeyed.hash = unkeyed.compute_hash()
    with transaction.atomic(using="owner"):
        unkeyed.save(using="owner", force_insert=True)
    broken = audit_chain_verify(chain=str(tenant.pk))
    assert broken is not None
    assert broken.seq == 3
    assert "no mac after keyed rows" in broken.reason


@COMMITTED
def test_a_verifier_with_another_key_says_so(chain, settings):
    settings.AUDIT_CHAIN_KEY = b"another installation's key"
    broken = audit_chain_verify(chain=str(chain.pk))
    assert broken is not None
    assert broken.seq == 1
    assert "keyed with chain key" in broken.reason
    assert "neither the configured key" in broken.reason


@COMMITTED
def test_after_a_rotation_the_retired_key_still_verifies_its_rows_in_their_order(chain, settings):
    first_key = settings.AUDIT_CHAIN_KEY
    settings.AUDIT_CHAIN_KEY, settings.AUDIT_CHAIN_RETIRED_KEYS = b"the new chain key", [first_key]
    _events(chain, UserFactory(), "test.after_the_rotation")
    rows = list(AuditEntry.unscoped.using("system").filter(chain=str(chain.pk)).order_by("seq"))
    assert rows[0].mac_key == rows[1].mac_key != rows[2].mac_key == keys.chain_key_id()
    assert audit_chain_verify(chain=str(chain.pk)) is None
    # A row keyed with the older key after the newer one (a leaked retired key) does not verify.
    settings.AUDIT_CHAIN_KEY, settings.AUDIT_CHAIN_RETIRED_KEYS = first_key, [b"the new chain key"]
    broken = audit_chain_verify(chain=str(chain.pk))
    assert broken is not None
    assert broken.seq == 3
    assert "retired chain key" in broken.reason


def test_the_chain_key_comes_from_the_environment_or_a_key_file(monkeypatch, tmp_path):
    monkeypatch.delenv("AUDIT_CHAIN_KEY", raising=False)
    monkeypatch.delenv("AUDIT_CHAIN_KEY_FILE", raising=False)
    derived = env_secret("AUDIT_CHAIN_KEY", derived_from="secret one")
    assert derived != env_secret("AUDIT_CHAIN_KEY", derived_from="secret two")  # unset: from SECRET_KEY
    assert len(derived) == 32
    monkeypatch.setenv("AUDIT_CHAIN_KEY", "from-the-environment")
    assert env_secret("AUDIT_CHAIN_KEY", derived_from="secret one") == b"from-the-environment"
    key_file = tmp_path / "chain.key"
    key_file.write_text("from-a-kms-mounted-file\n")
    monkeypatch.setenv("AUDIT_CHAIN_KEY_FILE", str(key_file))
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env_secret("AUDIT_CHAIN_KEY", derived_from="secret one")
    monkeypatch.delenv("AUDIT_CHAIN_KEY")
    assert env_secret("AUDIT_CHAIN_KEY", derived_from="secret one") == b"from-a-kms-mounted-file"
    monkeypatch.setenv("AUDIT_CHAIN_KEY_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(ImproperlyConfigured, match="cannot read"):
        env_secret("AUDIT_CHAIN_KEY", derived_from="secret one")


def test_the_database_never_holds_the_chain_key(chain):
    """Neither the key nor anything it is read from is stored: the database's functions and settings
    cannot compute a mac (what vigil_audit_append checks is only that one is there)."""
    key = _configured_key()
    with connection.cursor() as cursor:
        cursor.execute("SELECT string_agg(prosrc, ' ') FROM pg_proc WHERE proname LIKE 'vigil_%%'")
        sources = cursor.fetchone()[0]
        cursor.execute("SELECT string_agg(coalesce(setting, ''), ' ') FROM pg_settings")
        db_settings = cursor.fetchone()[0]
    for text in (sources, db_settings):
        assert key.hex() not in text
        assert key.decode("latin-1") not in text
