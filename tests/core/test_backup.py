"""Backups that restore (issue 8): `backup` writes pg_dump + evidence files + a manifest of SHA-256s;
`restore` puts them into an EMPTY database and storage, after which the audit chains verify and every
evidence item's bytes match its recorded hash. Restoring over data, or from a damaged backup, is refused."""

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connections, transaction

from apps.core.events import publish
from tests.factories import IncidentFactory, TenantFactory, make_evidence

ROOT = Path(__file__).resolve().parents[2]


def _conninfo(name: str) -> dict:
    db = connections["owner"].settings_dict
    info = {"dbname": name, "user": db["USER"], "host": db["HOST"] or None, "port": db["PORT"] or None}
    if db["PASSWORD"]:
        info["password"] = db["PASSWORD"]
    return {k: v for k, v in info.items() if v is not None}


def _database_url(name: str) -> str:
    db = connections["owner"].settings_dict
    auth = f"{db['USER']}:{db['PASSWORD'] or ''}@"
    host = db["HOST"] or ""
    if host.startswith("/"):
        return f"postgresql://{auth}/{name}?host={host}"
    return f"postgresql://{auth}{host}:{db['PORT'] or 5432}/{name}"


@pytest.fixture
def fresh_database():
    """An empty database on the same server, dropped afterwards."""
    name = f"vigil_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(**_conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(**_conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The restored installation is another one (its own SECRET_KEY), given the audit chain's key that wrote the
# rows, as README's Backups says: the key travels apart from the backup, never inside it.
CHAIN_KEY = "backup-test-audit-chain-key"


def _manage(*args: str, database: str, var_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS"}}
    env.update(
        DATABASE_URL=_database_url(database), VAR_DIR=str(var_dir), DEBUG="1", AUDIT_CHAIN_KEY=CHAIN_KEY
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _world():
    """Two tenants with incidents, evidence (bytes in the storage) and audit rows on their chains."""
    items = []
    for name, prefix in (("Finance", "FIN"), ("Engineering", "ENG")):
        tenant = TenantFactory(name=name, reference_prefix=prefix)
        incident = IncidentFactory(tenant=tenant)
        for n in range(3):
            items.append(make_evidence(incident, content=f"{name} capture {n}\n".encode() * 1000))
            with transaction.atomic():
                publish(verb="backup.probe", actor=None, target=tenant, tenant_id=tenant.id, data={"n": n})
    return items


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_a_backup_restores_into_an_empty_database_and_storage(tmp_path, fresh_database, settings):
    settings.AUDIT_CHAIN_KEY = CHAIN_KEY.encode()
    evidence = _world()
    backup = tmp_path / "backup"
    call_command("backup", output=str(backup))

    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["format"] == "vigil-backup/1"
    assert manifest["evidence_files"] == len({item.storage_key for item in evidence})
    assert "database.dump" in manifest["files"]
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((backup / name).read_bytes()).hexdigest() == digest

    restored_var = tmp_path / "restored"
    restored = _manage("restore", str(backup), database=fresh_database, var_dir=restored_var)
    assert restored.returncode == 0, restored.stdout + restored.stderr

    verified = _manage("verify_audit", database=fresh_database, var_dir=restored_var)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit chain(s) intact" in verified.stdout

    with psycopg.connect(**_conninfo(fresh_database)) as restored_db:
        rows = restored_db.execute("SELECT storage_key, sha256 FROM evidence_evidence").fetchall()
        audit_rows = restored_db.execute("SELECT count(*) FROM audit_auditentry").fetchone()[0]
    assert sorted(rows) == sorted((item.storage_key, item.sha256) for item in evidence)
    assert audit_rows >= 6
    for storage_key, sha256 in rows:
        stored = restored_var / "evidence" / storage_key
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha256, storage_key

    # A second restore into the now populated database and storage is refused.
    again = _manage("restore", str(backup), database=fresh_database, var_dir=restored_var)
    assert again.returncode != 0
    assert "is not empty" in again.stderr


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_restore_refuses_a_damaged_backup_and_a_database_with_data(tmp_path):
    _world()
    backup = tmp_path / "backup"
    call_command("backup", output=str(backup))
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(backup))
    damaged = next(path for path in (backup / "evidence").rglob("*") if path.is_file())
    damaged.write_bytes(b"tampered")
    with pytest.raises(CommandError, match="SHA-256 mismatch"):
        call_command("restore", str(backup))
