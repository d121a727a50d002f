from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from regenpath.entrypoints.api.access import CreatePatients, ReadPatients, UpdatePatients
from regenpath.entrypoints.api.schemas import PatientCreate, PatientOut, PatientPage, PatientUpdate
from regenpath.entrypoints.deps import ClockDep, IdsDep
from regenpath.services import patients
from regenpath.services.ports import PatientQuery

router = APIRouter(prefix="/patients", tags=["patients"])


@router.post("", status_code=status.HTTP_201_CREATED)
def register_patient(
    body: PatientCreate, uow: CreatePatients, clock: ClockDep, ids: IdsDep
) -> PatientOut:
    details = patients.PatientDetails(**body.model_dump())
    return PatientOut.of(patients.register_patient(uow, clock, ids, details))


@router.get("")
def search_patients(
    uow: ReadPatients,
    clock: ClockDep,
    name: Annotated[str | None, Query(max_length=100, description="Part of a name")] = None,
    mrn: Annotated[str | None, Query(max_length=64)] = None,
    birth_date: date | None = None,
    clinic_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> PatientPage:
    page = patients.search_patients(
        uow,
        clock,
        PatientQuery(
            clinic_id=clinic_id,
            name=name,
            mrn=mrn,
            birth_date=birth_date,
            limit=limit,
            cursor=cursor,
        ),
    )
    return PatientPage(items=[PatientOut.of(p) for p in page.items], next_cursor=page.next_cursor)


@router.get("/{patient_id}")
def read_patient(patient_id: UUID, uow: ReadPatients, clock: ClockDep) -> PatientOut:
    return PatientOut.of(patients.get_patient(uow, clock, patient_id))


@router.patch("/{patient_id}")
def update_patient(
    patient_id: UUID, body: PatientUpdate, uow: UpdatePatients, clock: ClockDep
) -> PatientOut:
    updated = patients.update_patient(uow, clock, patient_id, body.changes(), body.version)
    return PatientOut.of(updated)
