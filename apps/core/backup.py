"""Backups that restore (README, "Backups"): the database as a pg_dump custom-format archive, the evidence
storage's files, and a manifest with the SHA-256 of every file of the backup.

Consistency: pg_dump reads one snapshot of the database. Evidence bytes are content-addressed and never
rewritten (apps/evidence), and a row is committed only after its bytes are stored, so copying the storage
*after* the dump has started yields every file the dump refers to (files stored meanwhile are extra and
harmless). The restore checks the manifest first and refuses anything but an empty database and an empty
storage, so it never merges a backup into live data.

pg_dump / pg_restore: the first found, on PATH or in the pgserver wheel (the embedded development
server), whose major version is at least the server's."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

from django.core.files import File
from django.core.files.storage import Storage, storages
from django.core.management.base import CommandError
from django.db import connections
from django.utils import timezone

FORMAT = "vigil-backup/1"
DATABASE_FILE = "database.dump"
EVIDENCE_DIR = "evidence"
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _major(version_output: str) -> int:
    found = re.search(r"(\d+)(?:\.\d+)?", version_output)
    return int(found.group(1)) if found else 0


def _candidates(program: str) -> list[str]:
    found = []
    if on_path := shutil.which(program):
        found.append(on_path)
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; harmless
            warnings.simplefilter("ignore")
            import pgserver

        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / program
        if bundled.exists():
            found.append(str(bundled))
    except ImportError:  # pragma: no cover - pgserver is a dependency
        pass
    return found


def pg_program(program: str) -> str:
    """pg_dump or pg_restore at least as new as the server (an older one refuses a newer server)."""
    server_major = _owner().pg_version // 10000
    versions = []
    for candidate in _candidates(program):
        output = subprocess.run(  # noqa: S603 - a PostgreSQL client program found above
            [candidate, "--version"], capture_output=True, text=True, check=False, timeout=30
        ).stdout
        major = _major(output.rsplit(")", 1)[-1] or output)
        versions.append(f"{candidate} ({major})")
        if major >= server_major:
            return candidate
    raise CommandError(
        f"No {program} of PostgreSQL {server_major} or newer found (tried: {', '.join(versions) or 'none'}); "
        "install the PostgreSQL client tools or put them on PATH."
    )


def _owner():
    """Backups read, and restores write, as the tables' owner: the app's runtime role sees only the rows
    of its tenant context under row-level security (settings, "Database roles")."""
    return connections["owner"]


def pg_env() -> dict[str, str]:
    """libpq's environment for the database in use, read from the live connection (so that a unix socket
    given as `?host=` in DATABASE_URL, or a test run's test database, is honoured)."""
    _owner().ensure_connection()
    info = _owner().connection.info
    env = {**os.environ, "PGHOST": info.host, "PGPORT": str(info.port), "PGUSER": info.user}
    env["PGDATABASE"] = info.dbname
    if info.password:
        env["PGPASSWORD"] = info.password
    for option in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
        if value := _owner().settings_dict.get("OPTIONS", {}).get(option):
            env[f"PG{option.upper()}"] = str(value)
    return env


def _storage_files(storage: Storage, directory: str = "") -> list[str]:
    directories, files = (
        storage.listdir(directory) if storage.exists(directory) or directory == "" else ([], [])
    )
    names = [f"{directory}/{name}" if directory else name for name in files]
    for sub in directories:
        names += _storage_files(storage, f"{directory}/{sub}" if directory else sub)
    return sorted(names)


def evidence_files(storage: Storage) -> list[str]:
    try:
        return _storage_files(storage)
    except FileNotFoundError:  # a file-system storage whose directory was never created: empty
        return []


def backup(*, output: Path, log=print) -> dict:
    output.mkdir(parents=True, exist_ok=False)
    started = timezone.now()
    dump = output / DATABASE_FILE
    result = subprocess.run(  # noqa: S603 - pg_dump with fixed arguments
        [pg_program("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}"],
        env=pg_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
    log(f"database dumped to {dump}")
    storage = storages["evidence"]
    names = evidence_files(storage)
    for name in names:
        target = output / EVIDENCE_DIR / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with storage.open(name, "rb") as source, target.open("wb") as copy:
            shutil.copyfileobj(source, copy, CHUNK)
    log(f"{len(names)} evidence file(s) copied")
    files = {
        path.relative_to(output).as_posix(): sha256_of(path)
        for path in sorted(output.rglob("*"))
        if path.is_file()
    }
    manifest = {
        "format": FORMAT,
        "started_at": started.isoformat(),
        "finished_at": timezone.now().isoformat(),
        "database": {"name": _owner().settings_dict["NAME"], "server_version": _owner().pg_version},
        "evidence_files": len(names),
        "files": files,
    }
    (output / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def verify_manifest(source: Path) -> dict:
    manifest_path = source / MANIFEST
    if not manifest_path.is_file():
        raise CommandError(f"{source} has no {MANIFEST}: not a Vigil backup")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format") != FORMAT:
        raise CommandError(f"Unknown backup format {manifest.get('format')!r}")
    present = {p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()} - {MANIFEST}
    if present != set(manifest["files"]):
        raise CommandError(
            f"Backup files differ from the manifest: missing {sorted(set(manifest['files']) - present)}, "
            f"unexpected {sorted(present - set(manifest['files']))}"
        )
    damaged = [name for name, digest in manifest["files"].items() if sha256_of(source / name) != digest]
    if damaged:
        raise CommandError(f"Backup damaged, SHA-256 mismatch: {', '.join(sorted(damaged))}")
    return manifest


def database_is_empty() -> bool:
    with _owner().cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'"
        )
        return cursor.fetchone()[0] == 0


def restore(*, source: Path, log=print) -> dict:
    manifest = verify_manifest(source)
    log(f"manifest verified: {len(manifest['files'])} file(s)")
    if not database_is_empty():
        raise CommandError(
            f"Database {_owner().settings_dict['NAME']!r} is not empty; restore only into an empty one."
        )
    storage = storages["evidence"]
    if evidence_files(storage):
        raise CommandError("The evidence storage is not empty; restore only into an empty one.")
    env, program = pg_env(), pg_program("pg_restore")
    _owner().close()  # pg_restore creates the tables; no open transaction of ours may hold anything
    result = subprocess.run(  # noqa: S603 - pg_restore with fixed arguments
        [
            program,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={env['PGDATABASE']}",
            str(source / DATABASE_FILE),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise CommandError(f"pg_restore failed: {result.stderr.strip()}")
    log("database restored")
    evidence_root = source / EVIDENCE_DIR
    restored = 0
    for path in sorted(evidence_root.rglob("*")) if evidence_root.is_dir() else []:
        if path.is_file():
            name = path.relative_to(evidence_root).as_posix()
            with path.open("rb") as file:
                saved = storage.save(name, File(file))
            if saved != name:
                raise CommandError(f"Evidence storage renamed {name} to {saved}; it was not empty")
            restored += 1
    log(f"{restored} evidence file(s) restored")
    return manifest
