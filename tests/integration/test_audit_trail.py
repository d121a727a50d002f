"""The audit trail in the database: what gets recorded, and `regenpath audit verify`."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from regenpath.adapters.db.tables import AuditEventRow
from regenpath.bootstrap import Application
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
    assert f"Audit chain intact: {len(trail(application))} entries verified." in result.stdout


def _tamper(application: Application, statement) -> None:  # type: ignore[no-untyped-def]
    with application.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Only a superuser can step around the append-only trigger, as an attacker with
            # database access would; the application itself never can.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(statement)


def test_audit_verify_names_a_row_edited_in_the_database(
    client: TestClient, application: Application, database_url: str, patient
) -> None:
    for _ in range(3):
        client.get(f"/api/v1/patients/{patient['id']}")
    edited = trail(application)[-2].sequence
    _tamper(
        application,
        update(AuditEventRow).where(AuditEventRow.sequence == edited).values(actor="nobody"),
    )
    result = regenpath("audit", "verify", database=database_url)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: audit chain broken at entry {edited}:")


def test_audit_verify_notices_entries_removed_from_the_end(
    client: TestClient, application: Application, database_url: str, patient
) -> None:
    client.get(f"/api/v1/patients/{patient['id']}")
    last = trail(application)[-1].sequence
    _tamper(application, AuditEventRow.__table__.delete().where(AuditEventRow.sequence == last))
    result = regenpath("audit", "verify", database=database_url)
    assert result.returncode == 1
    assert f"broken at entry {last}" in result.stderr


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
