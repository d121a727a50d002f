"""ID-1: a clinic's MRNs are unique as they are compared, case and spaces aside, in
registration, search, the FHIR import and the bedside check; migration 0012 keys the records
already there and reports the ones that collide."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text

from regenpath.adapters.db import migrate
from regenpath.adapters.db.tables import AuditEventRow, PatientRow
from regenpath.bootstrap import Application
from tests.integration.test_api_patients import new_patient


def test_ID_1_the_same_mrn_in_another_case_or_spacing_is_the_same_patient(
    client: TestClient, clinic: dict[str, str]
) -> None:
    first = client.post("/api/v1/patients", json=new_patient(clinic["id"], mrn="new-0001"))
    assert first.status_code == 201, first.text
    for typed in ("NEW-0001", " new-0001 ", "New -0001", "n e w-0001"):
        again = client.post("/api/v1/patients", json=new_patient(clinic["id"], mrn=typed))
        assert again.status_code == 409, (typed, again.text)
        assert again.json()["field"] == "mrn"
    found = client.get("/api/v1/patients", params={"mrn": " NEW - 0001"}).json()["items"]
    assert [p["id"] for p in found] == [first.json()["id"]]
    assert found[0]["mrn"] == "new-0001"  # shown as it was registered


def test_ID_1_migration_0012_keys_existing_records_and_reports_collisions(
    application: Application, clinic: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    engine = application.engine
    migrate.downgrade(engine, "0011")
    now = datetime(2026, 3, 1, tzinfo=UTC)
    try:
        with engine.begin() as connection:
            for n, mrn in enumerate(["new-0001", "NEW-0001", "rs 77", "RS-9"]):
                connection.execute(
                    insert(PatientRow.__table__).values(
                        id=uuid.UUID(int=n + 1),
                        clinic_id=uuid.UUID(clinic["id"]),
                        mrn=mrn,
                        family_name="Collide",
                        given_name=f"N{n}",
                        birth_date=datetime(1970, 1, 1).date(),
                        sex="female",
                        created_at=now.replace(minute=n),
                        updated_at=now,
                        version=1,
                    )
                )
        with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
            migrate.upgrade(engine)
    finally:
        if migrate.current_revision(engine) != migrate.head_revision():
            migrate.upgrade(engine)
    with engine.connect() as connection:
        keys = dict(connection.execute(select(PatientRow.mrn, PatientRow.mrn_key)).all())
    assert keys == {
        "new-0001": "NEW-0001",
        "NEW-0001": "NEW-0001#2",
        "rs 77": "RS77",
        "RS-9": "RS-9",
    }
    reported = [r.getMessage() for r in caplog.records if "same number" in r.getMessage()]
    assert len(reported) == 1 and "'NEW-0001'" in reported[0]
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), engine.begin() as connection:
        connection.execute(text("UPDATE patients SET mrn_key = 'RS77' WHERE mrn = 'RS-9'"))


def test_ID_2_a_look_alike_registration_is_warned_of_and_saved_only_with_a_reason(
    client: TestClient, clinic: dict[str, str], application: Application
) -> None:
    first = client.post("/api/v1/patients", json=new_patient(clinic["id"], mrn="RS-1"))
    assert first.status_code == 201
    again = new_patient(clinic["id"], mrn="RS-2", family_name="dalton", given_name="Qinn")
    warned = client.post("/api/v1/patients", json=again)
    assert warned.status_code == 409, warned.text
    problem = warned.json()
    assert problem["field"] == "duplicate_reason"
    assert problem["candidates"] == [
        {"id": first.json()["id"], "mrn": "RS-1", "name": "DALTON, Quinn"}
    ]
    reason = "Twin brother: checked against his passport"
    saved = client.post("/api/v1/patients", json=again | {"duplicate_reason": reason})
    assert saved.status_code == 201, saved.text
    with application.session_factory() as session:
        entry = session.scalars(
            select(AuditEventRow).where(AuditEventRow.resource_id == saved.json()["id"])
        ).first()
    assert entry is not None and entry.reason == reason
    assert entry.detail == "registered beside look-alike MRN RS-1"


def test_ID_2_the_registration_page_names_the_look_alike_and_keeps_what_was_typed(
    client: TestClient, clinic: dict[str, str]
) -> None:
    first = client.post("/api/v1/patients", json=new_patient(clinic["id"], mrn="RS-1"))
    form = {
        "clinic_id": clinic["id"],
        "mrn": "RS-3",
        "family_name": "Dalton",
        "given_name": "Quinn",
        "birth_date": "1975-09-30",
        "sex": "male",
    }
    warned = client.post("/patients", data=form)
    assert warned.status_code == 409
    assert f'href="/patients/{first.json()["id"]}">DALTON, Quinn, MRN RS-1' in warned.text
    assert 'id="mrn" name="mrn" type="text" value="RS-3"' in warned.text
    saved = client.post(
        "/patients",
        data=form | {"duplicate_reason": "Namesake: another address"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
