"""Use cases for clinics (the tenants)."""

from __future__ import annotations

from uuid import UUID

from regenpath.domain.patients import Clinic
from regenpath.services.errors import NotFound
from regenpath.services.ports import Clock, IdFactory, UnitOfWork


def create_clinic(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, *, name: str, time_zone: str
) -> Clinic:
    clinic = Clinic.create(id=new_id(), name=name, time_zone=time_zone, now=clock.now())
    with uow:
        uow.clinics.add(clinic)
        uow.commit()
    return clinic


def get_clinic(uow: UnitOfWork, clinic_id: UUID) -> Clinic:
    with uow:
        clinic = uow.clinics.get(clinic_id)
    if clinic is None:
        raise NotFound("clinic", clinic_id)
    return clinic


def list_clinics(uow: UnitOfWork) -> list[Clinic]:
    with uow:
        return uow.clinics.all()
