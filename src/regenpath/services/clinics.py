"""Use cases for clinics (the tenants)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from regenpath.domain.patients import Clinic
from regenpath.services.errors import NotFound
from regenpath.services.ports import Clock, IdFactory, UnitOfWork


def create_clinic(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    *,
    name: str,
    time_zone: str,
    phone: str | None = None,
) -> Clinic:
    clinic = Clinic.create(
        id=new_id(), name=name, time_zone=time_zone, now=clock.now(), phone=phone
    )
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


def clinic_day(uow: UnitOfWork, clinic_id: UUID, moment: datetime) -> date:
    """The date ``moment`` falls on in the clinic's calendar (inside the caller's unit of
    work): a rule's "within 3 months" and a report's "15 calendar days" count the clinic's
    days, not UTC's."""
    clinic = uow.clinics.get(clinic_id)
    return moment.astimezone(ZoneInfo(clinic.time_zone) if clinic is not None else None).date()
