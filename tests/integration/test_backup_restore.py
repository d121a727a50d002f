"""`regenpath backup` and `regenpath restore`: the restore drill a clinic's administrator runs,
on SQLite and PostgreSQL, with writes going on while the backup is taken, and every way a
restore must refuse."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from regenpath.adapters.db.backup import database_is_empty, manifest_path
from regenpath.adapters.db.tables import AuditEventRow, PatientRow
from regenpath.bootstrap import Application
from tests.integration.personas import StaffClient
from tests.integration.test_api_patients import born, new_patient
from tests.processes import REGENPATH, environment, run_cli

pytestmark = pytest.mark.xdist_group("processes")


@pytest.fixture
def empty_target(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the same kind to restore into."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"regenpath_restore_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = create_engine(url.set(query={}), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def counts(url: str) -> tuple[int, int, int]:
    """Patients, audit entries recording a patient's registration, and the audit head."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            patients = connection.scalar(select(func.count()).select_from(PatientRow))
            registered = connection.scalar(
                select(func.count())
                .select_from(AuditEventRow)
                .where(AuditEventRow.action == "create", AuditEventRow.resource_type == "patient")
            )
            head = connection.scalar(text("SELECT sequence FROM audit_chain_head"))
    finally:
        engine.dispose()
    return int(patients or 0), int(registered or 0), int(head or 0)


def register(client: StaffClient, clinic: dict[str, str], first: int, last: int) -> None:
    for n in range(first, last):
        body = new_patient(clinic["id"], mrn=f"BK-{n}", birth_date=born(n))
        response = client.post("/api/v1/patients", json=body)
        assert response.status_code == 201, response.text


def only_backup(folder: Path) -> Path:
    (found,) = [p for p in folder.iterdir() if p.suffix in (".sqlite", ".pgdump")]
    return found


def test_a_backup_taken_while_writes_go_on_restores_whole_and_verified(
    client: StaffClient,
    application: Application,
    clinic: dict[str, str],
    database_url: str,
    empty_target: str,
    tmp_path: Path,
) -> None:
    register(client, clinic, 0, 5)
    stop = threading.Event()
    written = [5]

    def keep_writing() -> None:
        while not stop.is_set():
            register(client, clinic, written[0], written[0] + 1)
            written[0] += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        time.sleep(0.3)
        done = run_cli("backup", str(tmp_path / "backups"), env=environment(database_url))
    finally:
        stop.set()
        writer.join()
    assert "Backup " in done.stdout
    backup = only_backup(tmp_path / "backups")
    manifest = json.loads(manifest_path(backup).read_text())
    assert manifest["counts"]["patients"] >= 5
    restored = run_cli("restore", str(backup), "--database", empty_target, env=environment(""))
    assert "audit chain intact" in restored.stdout
    patients, registered, head = counts(empty_target)
    # One moment of the database: every patient with the audit entry of their registration,
    # and the chain's head as the manifest wrote it.
    assert patients == registered == manifest["counts"]["patients"]
    assert head == manifest["audit_head"]["sequence"]
    assert run_cli("audit", "verify", env=environment(empty_target)).returncode == 0
    assert counts(database_url)[0] == written[0] >= patients


def test_restore_refuses_a_damaged_file_a_newer_schema_and_a_full_target(
    client: StaffClient,
    clinic: dict[str, str],
    database_url: str,
    empty_target: str,
    tmp_path: Path,
) -> None:
    register(client, clinic, 0, 2)
    env = environment(database_url)
    run_cli("backup", str(tmp_path / "b"), env=env)
    backup = only_backup(tmp_path / "b")

    def refused(file: Path, target: str) -> str:
        done = run_cli("restore", str(file), "--database", target, env=env, check=False)
        assert done.returncode == 1, done.stdout
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        return done.stderr

    assert "is not empty" in refused(backup, database_url)
    manifest = manifest_path(backup)
    written = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(written | {"migration_head": "9999_future"}))
    assert "newer than this regenpath knows" in refused(backup, empty_target)
    manifest.write_text(json.dumps(written))
    damaged = bytearray(backup.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    backup.write_bytes(bytes(damaged))
    assert "does not match its manifest's checksum" in refused(backup, empty_target)
    manifest.unlink()
    assert "without its manifest a backup is not trusted" in refused(backup, empty_target)
    assert database_is_empty(empty_target)  # nothing half-restored


def test_keep_prunes_the_oldest_backups_only(
    application: Application, database_url: str, tmp_path: Path
) -> None:
    env = environment(database_url)
    folder = tmp_path / "kept"
    for _ in range(3):
        run_cli("backup", str(folder), "--keep", "2", env=env)
    backups = sorted(p.name for p in folder.iterdir())
    assert len(backups) == 4  # two backups, each with its manifest
    assert all(
        (folder / name).with_name(name + ".json").exists()
        for name in backups
        if not name.endswith(".json")
    )


def test_a_backup_killed_midway_is_never_presented_as_good(
    client: StaffClient, clinic: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    """kill -9 while the data is being written: what is left is a .partial no restore takes,
    and the next backup clears it away."""
    register(client, clinic, 0, 20)
    env = environment(database_url)
    folder = tmp_path / "killed"
    folder.mkdir()
    process = subprocess.Popen(
        [REGENPATH, "backup", str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if any(p.name.endswith(".partial") for p in folder.iterdir()):
            break
        time.sleep(0.001)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    for path in folder.iterdir():
        if ".partial" in path.name:  # the data, or SQLite's journal beside it
            done = run_cli("restore", str(path), "--database", "sqlite:///x", env=env, check=False)
            assert done.returncode == 1 and "unfinished backup" in done.stderr
        elif not path.name.endswith(".json"):
            assert manifest_path(path).exists(), f"{path.name} has no manifest"
    run_cli("backup", str(folder), env=env)
    assert not [p for p in folder.iterdir() if ".partial" in p.name]
