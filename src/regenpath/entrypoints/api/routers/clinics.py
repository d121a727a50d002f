from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from regenpath.entrypoints.api.schemas import ClinicCreate, ClinicOut
from regenpath.entrypoints.deps import ClockDep, IdsDep, UowDep
from regenpath.services import clinics

router = APIRouter(prefix="/clinics", tags=["clinics"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_clinic(body: ClinicCreate, uow: UowDep, clock: ClockDep, ids: IdsDep) -> ClinicOut:
    clinic = clinics.create_clinic(uow, clock, ids, name=body.name, time_zone=body.time_zone)
    return ClinicOut.of(clinic)


@router.get("")
def list_clinics(uow: UowDep) -> list[ClinicOut]:
    return [ClinicOut.of(c) for c in clinics.list_clinics(uow)]


@router.get("/{clinic_id}")
def read_clinic(clinic_id: UUID, uow: UowDep) -> ClinicOut:
    return ClinicOut.of(clinics.get_clinic(uow, clinic_id))
