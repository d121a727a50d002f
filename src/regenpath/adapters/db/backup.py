"""Backups a clinic's administrator can trust, and their restore.

A backup is one consistent moment of the whole database, taken while the server goes on
writing, and it is only ever presented as good once it is complete: the data is written to a
``.partial`` file, flushed to disk and renamed, and the manifest beside it (with the file's
SHA-256) is written the same way last. A process killed at any point leaves a ``.partial``
that no restore accepts, never a broken file under a backup's name.

- SQLite: SQLite's online backup API through the application's own driver (a WAL reader: the
  server's writers never wait for it).
- PostgreSQL: ``pg_dump --format=custom`` (postgresql-client), run on a snapshot exported
  from the transaction that also counts the rows and reads the audit head, so the manifest
  describes exactly what the dump holds.

Records are kept at least 10 years (REC-2, 21 CFR 1271.270(d)): ``--keep`` prunes only the
backup copies in one folder, never a record, and the README says where the copies go.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import make_url

from regenpath import __version__
from regenpath.adapters.db import migrate, urls
from regenpath.adapters.db.engine import build_engine
from regenpath.adapters.db.tables import Base

MANIFEST_FORMAT = 1
PARTIAL = ".partial"
SUFFIX = {"sqlite": ".sqlite", "postgresql": ".pgdump"}
PG_TOOLS_HINT = "install postgresql-client (Debian: apt-get install postgresql-client)"


class BackupError(Exception):
    """The backup or restore cannot be done; the message is one line for the administrator."""


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, written beside it as JSON."""

    file: str
    sha256: str
    size: int
    database: str
    schema: str | None
    migration_head: str
    created_at: str
    counts: dict[str, int]
    audit_head: dict[str, Any]
    regenpath_version: str = __version__
    format: int = MANIFEST_FORMAT
    notes: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except FileNotFoundError:
            raise BackupError(
                f"{path.name} is missing: without its manifest a backup is not trusted"
            ) from None
        except (ValueError, TypeError) as error:
            raise BackupError(f"{path} is not a regenpath backup manifest: {error}") from None


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".json")


def take_backup(database_url: str, folder: Path, now: datetime) -> tuple[Path, Manifest]:
    """A consistent backup of the database into ``folder``; its path and manifest."""
    kind = urls.backend(database_url)
    if kind not in SUFFIX:
        raise BackupError(f"no backup for {kind} databases")
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"regenpath-{stamp}{SUFFIX[kind]}"
    partial = target.with_name(target.name + PARTIAL)
    for stale in folder.glob(f"regenpath-*{PARTIAL}*"):  # with SQLite's -journal beside it
        stale.unlink(missing_ok=True)  # what a killed backup left: never a backup
    try:
        if kind == "sqlite":
            head, counts, audit_head = _sqlite_backup(urls.sqlite_path(database_url), partial)
            schema = None
        else:
            schema = urls.search_path(database_url)
            head, counts, audit_head = _postgresql_backup(database_url, schema, partial)
        _sync(partial)
        digest, size = _sha256(partial)
        partial.replace(target)
        manifest = Manifest(
            file=target.name,
            sha256=digest,
            size=size,
            database=kind,
            schema=schema,
            migration_head=head,
            created_at=now.isoformat(),
            counts=counts,
            audit_head=audit_head,
        )
        _write_atomically(manifest_path(target), json.dumps(asdict(manifest), indent=2) + "\n")
        _sync_folder(folder)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target, manifest


def verified(backup: Path) -> Manifest:
    """The backup's manifest, once the file is whole: its size and SHA-256 as written."""
    if PARTIAL in backup.name:
        raise BackupError(f"{backup.name} is an unfinished backup (the process was stopped)")
    if not backup.is_file():
        raise BackupError(f"{backup} does not exist or is not a file")
    manifest = Manifest.read(manifest_path(backup))
    if manifest.format > MANIFEST_FORMAT:
        raise BackupError(f"{backup.name} was written by a newer regenpath: upgrade first")
    digest, size = _sha256(backup)
    if (digest, size) != (manifest.sha256, manifest.size):
        raise BackupError(
            f"{backup.name} does not match its manifest's checksum: the file is damaged"
        )
    return manifest


def restore_backup(backup: Path, database_url: str) -> Manifest:
    """Restore ``backup`` into the empty database at ``database_url`` and bring its schema to
    this version's head. Refuses a damaged file, a backup of a newer schema, a backup of the
    other kind of database, and a target that holds anything."""
    manifest = verified(backup)
    kind = urls.backend(database_url)
    if manifest.database != kind:
        raise BackupError(f"{backup.name} is a {manifest.database} backup; the target is {kind}")
    if not migrate.known_revision(manifest.migration_head):
        raise BackupError(
            f"{backup.name} has schema {manifest.migration_head}, newer than this regenpath"
            f" knows ({migrate.head_revision()}): restore it with a newer version"
        )
    if kind == "sqlite":
        _restore_sqlite(backup, urls.sqlite_path(database_url))
    else:
        _restore_postgresql(backup, database_url, manifest)
    return manifest


def completed_backups(folder: Path) -> list[Path]:
    """The finished backups in ``folder`` (with a manifest), oldest first."""
    found = [
        path
        for path in folder.glob("regenpath-*")
        if path.suffix in SUFFIX.values() and manifest_path(path).is_file()
    ]
    return sorted(found, key=lambda path: path.name)


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` finished backups in ``folder``; what was removed."""
    removed = completed_backups(folder)[:-keep] if keep > 0 else []
    for path in removed:
        manifest_path(path).unlink(missing_ok=True)
        path.unlink(missing_ok=True)
    return removed


def table_counts(connection: Connection) -> dict[str, int]:
    """Rows per table of the application's schema, as one transaction sees them."""
    present = set(inspect(connection).get_table_names())
    return {
        table.name: int(
            connection.execute(text(f'SELECT count(*) FROM "{table.name}"')).scalar_one()  # noqa: S608
        )
        for table in Base.metadata.sorted_tables
        if table.name in present
    }


def audit_head(connection: Connection) -> dict[str, Any]:
    row = connection.execute(text("SELECT sequence, hash FROM audit_chain_head")).first()
    return {"sequence": int(row[0]), "hash": str(row[1])} if row else {"sequence": 0, "hash": ""}


def database_is_empty(database_url: str) -> bool:
    """Whether the target holds no table of regenpath's (a migrated-but-empty schema is not
    empty: restoring over it would mix two histories)."""
    if urls.backend(database_url) == "sqlite":
        path = urls.sqlite_path(database_url)
        if not path.exists() or path.stat().st_size == 0:
            return True
    engine = (
        create_engine(database_url)  # no WAL switched on in a file that is only looked at
        if urls.backend(database_url) == "sqlite"
        else build_engine(database_url)
    )
    try:
        with engine.connect() as connection:
            names = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    return not names & {*Base.metadata.tables, "alembic_version"}


# -- SQLite --------------------------------------------------------------------------------


def _sqlite_backup(database: Path, partial: Path) -> tuple[str, dict[str, int], dict[str, Any]]:
    if not database.is_file():
        raise BackupError(f"{database} does not exist")
    source = sqlite3.connect(database, timeout=15)
    try:
        target = sqlite3.connect(partial)
        try:
            # One step for the whole file: one read transaction, one consistent moment.
            source.backup(target, pages=-1)
            # A standalone file: the copy must not need a -wal beside it to be whole.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    finally:
        source.close()
    engine = create_engine(f"sqlite:///{partial}")
    try:
        with engine.connect() as connection:
            head = _revision(connection)
            return head, table_counts(connection), audit_head(connection)
    finally:
        engine.dispose()


def _restore_sqlite(backup: Path, target: Path) -> None:
    if not database_is_empty(f"sqlite:///{target}"):
        raise BackupError(f"{target} is not empty: restore only into a new database file")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + PARTIAL)
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=-1)
        finally:
            copy.close()
    finally:
        source.close()
    _sync(partial)
    for stale in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        stale.unlink(missing_ok=True)
    partial.replace(target)


# -- PostgreSQL ----------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: {PG_TOOLS_HINT}")
    return found


def _pg_environment(database_url: str) -> dict[str, str]:
    """libpq's environment: the password travels here, never on the command line."""
    env = dict(os.environ)
    password = make_url(database_url).password
    if password:
        env["PGPASSWORD"] = str(password)
    return env


def _postgresql_backup(
    database_url: str, schema: str | None, partial: Path
) -> tuple[str, dict[str, int], dict[str, Any]]:
    pg_dump = _pg_tool("pg_dump")
    engine = build_engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            head = _revision(connection)
            counts, audit = table_counts(connection), audit_head(connection)
            command = [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={partial}",
                "--no-owner",
                "--no-privileges",
            ]
            if schema is not None:
                command.append(f"--schema={schema}")
            command.append(f"--dbname={urls.libpq(database_url, with_password=False)}")
            # The snapshot lives as long as this transaction: pg_dump runs inside it.
            _run(command, database_url, "pg_dump")
            connection.rollback()
    finally:
        engine.dispose()
    return head, counts, audit


def _restore_postgresql(backup: Path, database_url: str, manifest: Manifest) -> None:
    pg_restore = _pg_tool("pg_restore")
    schema = urls.search_path(database_url)
    if schema != manifest.schema:
        raise BackupError(
            f"{backup.name} holds schema {manifest.schema or 'public'}; the target URL works"
            f" in {schema or 'public'}"
        )
    if not database_is_empty(database_url):
        raise BackupError("the target database is not empty: restore only into a new database")
    command = [
        pg_restore,
        "--exit-on-error",
        "--single-transaction",  # all or nothing: a failed restore leaves the target empty
        "--no-owner",
        "--no-privileges",
        f"--dbname={urls.libpq(database_url, with_password=False)}",
        str(backup),
    ]
    _run(command, database_url, "pg_restore")


def _run(command: list[str], database_url: str, name: str) -> None:
    # The command is pg_dump or pg_restore found on PATH, with arguments built here.
    done = subprocess.run(  # noqa: S603
        command, env=_pg_environment(database_url), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupError(f"{name} failed: {lines[0] if lines else f'exit {done.returncode}'}")


# -- files ---------------------------------------------------------------------------------


def _revision(connection: Connection) -> str:
    try:
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as error:
        raise BackupError(f"the database has no schema version: {error}") from None
    if found is None:
        raise BackupError("the database has no schema version: run `regenpath db upgrade`")
    return str(found)


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _sync(path: Path) -> None:
    with path.open("rb") as stream:
        os.fsync(stream.fileno())


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_atomically(path: Path, content: str) -> None:
    partial = path.with_name(path.name + PARTIAL)
    with partial.open("w", encoding="utf-8") as stream:
        stream.write(content)
        stream.flush()
        os.fsync(stream.fileno())
    partial.replace(path)
