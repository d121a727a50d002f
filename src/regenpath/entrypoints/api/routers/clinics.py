from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from regenpath.entrypoints.api.access import ReadClinics
from regenpath.entrypoints.api.schemas import ClinicOut
from regenpath.services import clinics

# Clinics are created by the operator (`regenpath clinic create`), not through the API: no
# clinic role may make another clinic.
router = APIRouter(prefix="/clinics", tags=["clinics"])


@router.get("")
def list_clinics(uow: ReadClinics) -> list[ClinicOut]:
    """The clinics the user belongs to."""
    return [ClinicOut.of(c) for c in clinics.list_clinics(uow)]


@router.get("/{clinic_id}")
def read_clinic(clinic_id: UUID, uow: ReadClinics) -> ClinicOut:
    return ClinicOut.of(clinics.get_clinic(uow, clinic_id))
