"""The audit trail in the database: what gets recorded, and `regenpath audit verify`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from regenpath.adapters.db.tables import AuditChainHeadRow, AuditEventRow
from regenpath.bootstrap import Application
from regenpath.domain.audit import AuditAction, AuditEntry, AuditOutcome, seal
from tests.integration.test_cli import regenpath


def trail(application: Application) -> list[AuditEventRow]:
    with application.session_factory() as session:
        return list(session.scalars(select(AuditEventRow).order_by(AuditEventRow.sequence)))


def test_reads_writes_and_refusals_of_patient_data_are_recorded(
    client: TestClient, application: Application, patient, episode
) -> None:
    before = len(trail(application))
    client.get(f"/api/v1/patients/{patient['id']}")
    client.post(
        f"/api/v1/episodes/{episode['id']}/transitions", json={"to": "consented", "version": 1}
    )
    client.get("/api/v1/patients/00000000-0000-4000-8000-000000000000")
    recorded = trail(application)[before:]
    assert [(r.action, r.resource_type, r.outcome) for r in recorded] == [
        ("read", "patient", "succeeded"),
        ("transition", "episode", "denied"),
        ("read", "patient", "failed"),
    ]
    assert {r.actor for r in recorded} == {"physician.riverside-spine"}
    assert recorded[0].clinic_id is not None
    created = [(r.action, r.resource_type) for r in trail(application)[:before]]
    assert ("create", "patient") in created and ("create", "episode") in created


def test_audit_verify_passes_on_an_untouched_trail(
    client: TestClient, application: Application, database_url: str, patient
) -> None:
    client.get(f"/api/v1/patients/{patient['id']}")
    result = regenpath("audit", "verify", database=database_url)
    assert result.returncode == 0, result.stderr
    assert f"Audit chain intact: {len(trail(application))} entries verified" in result.stdout


def _tamper(application: Application, statement) -> None:  # type: ignore[no-untyped-def]
    with application.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Only a superuser can step around the append-only trigger, as an attacker with
            # database access would; the application itself never can.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(statement)


def _trail_of(client: TestClient, patient, reads: int = 5) -> None:  # type: ignore[no-untyped-def]
    for _ in range(reads):
        client.get(f"/api/v1/patients/{patient['id']}")


def _verify_fails(database_url: str, *expected: str) -> str:
    result = regenpath("audit", "verify", database=database_url)
    assert result.returncode == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("error: audit trail: ") for line in lines), result.stderr
    for wanted in expected:
        assert any(wanted in line for line in lines), (wanted, result.stderr)
    return result.stderr


def test_audit_verify_names_a_row_edited_in_the_database(
    client: TestClient, application: Application, database_url: str, patient
) -> None:
    _trail_of(client, patient, 3)
    edited = trail(application)[-2].sequence
    _tamper(
        application,
        update(AuditEventRow).where(AuditEventRow.sequence == edited).values(actor="nobody"),
    )
    _verify_fails(database_url, f"entry {edited} was changed after it was written")


def test_audit_verify_names_a_row_deleted_from_the_middle(
    client: TestClient, application: Application, database_url: str, patient
) -> None:
    _trail_of(client, patient)
    middle = trail(application)[-3].sequence
    _tamper(application, AuditEventRow.__table__.delete().where(AuditEventRow.sequence == middle))
    _verify_fails(database_url, f"entry {middle} missing: removed from the middle")


def test_audit_verify_notices_entries_removed_from_the_end(
    client: TestClient, application: Application, database_url: str, patient
) -> None:
    _trail_of(client, patient, 1)
    last = trail(application)[-1].sequence
    _tamper(application, AuditEventRow.__table__.delete().where(AuditEventRow.sequence == last))
    _verify_fails(database_url, f"entries {last}-{last} missing from the end: the head says {last}")


def test_audit_verify_names_a_row_inserted_after_the_head(
    client: TestClient, application: Application, database_url: str, patient
) -> None:
    """A row added with a fitting hash but without moving the head (an INSERT by hand)."""
    _trail_of(client, patient, 2)
    last = trail(application)[-1]
    forged = seal(
        AuditEntry(
            occurred_at=last.occurred_at,
            actor="nobody",
            action=AuditAction.READ,
            resource_type="patient",
            resource_id=None,
            clinic_id=None,
            outcome=AuditOutcome.SUCCEEDED,
        ),
        last.sequence + 1,
        last.hash,
    )
    _tamper(
        application,
        AuditEventRow.__table__.insert().values(
            sequence=forged.sequence,
            occurred_at=forged.entry.occurred_at,
            actor=forged.entry.actor,
            action=forged.entry.action,
            resource_type=forged.entry.resource_type,
            outcome=forged.entry.outcome,
            previous_hash=forged.previous_hash,
            hash=forged.hash,
        ),
    )
    _verify_fails(database_url, f"entries {forged.sequence}-{forged.sequence} lie beyond the head")


def test_audit_verify_names_a_head_that_disagrees(
    client: TestClient, application: Application, database_url: str, patient
) -> None:
    _trail_of(client, patient, 2)
    last = trail(application)[-1].sequence
    _tamper(application, update(AuditChainHeadRow).values(hash="f" * 64))
    _verify_fails(database_url, f"the head's hash is not that of the last entry ({last})")


def test_audit_verify_fails_on_a_sqlite_file_that_fails_its_integrity_check(
    application: Application, database_url: str, tmp_path
) -> None:
    if application.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's file check")
    path = tmp_path / "damaged.db"
    source = Path(make_url(database_url).database or "")
    with sqlite3.connect(source) as live, sqlite3.connect(path) as copy:
        live.backup(copy)
    # A torn write: the page type byte of an index's root page overwritten.
    with sqlite3.connect(path) as damaged:
        damaged.execute("PRAGMA journal_mode=DELETE")
        root = damaged.execute(
            "SELECT rootpage FROM sqlite_master WHERE name='ix_audit_events_resource'"
        ).fetchone()[0]
        page_size = damaged.execute("PRAGMA page_size").fetchone()[0]
    damaged.close()
    with path.open("r+b") as raw:
        raw.seek((root - 1) * page_size)
        raw.write(b"\x00" * 8)
    for quick in (False, True):
        args = ("audit", "verify", "--quick") if quick else ("audit", "verify")
        result = regenpath(*args, database=path)
        assert result.returncode == 1
        check = "quick_check" if quick else "integrity_check"
        assert f"the database file fails SQLite's {check}" in result.stderr, result.stderr


def test_audit_verify_fails_when_the_append_only_trigger_is_gone(
    client: TestClient, application: Application, database_url: str, patient
) -> None:
    if application.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    _trail_of(client, patient, 1)
    with application.engine.begin() as connection:
        connection.execute(
            text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        )
    try:
        _verify_fails(database_url, "the append-only trigger on audit_events is disabled")
    finally:
        with application.engine.begin() as connection:
            connection.execute(
                text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
            )


def test_postgresql_refuses_to_update_or_delete_audit_rows(
    client: TestClient, application: Application, patient
) -> None:
    if application.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    for statement in (
        update(AuditEventRow).values(actor="nobody"),
        AuditEventRow.__table__.delete(),
    ):
        with pytest.raises(DBAPIError, match="append-only"), application.engine.begin() as c:
            c.execute(statement)
    assert trail(application)[-1].actor != "nobody"
