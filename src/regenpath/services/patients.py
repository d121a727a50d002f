"""Use cases for patient records."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from regenpath.domain.audit import AuditAction
from regenpath.domain.patients import (
    CORRECTABLE_FIELDS,
    AdministrativeSex,
    Patient,
    probably_same_person,
)
from regenpath.services.audit import failures_recorded, read_one, record, record_search
from regenpath.services.errors import (
    DuplicateValue,
    InvalidReference,
    NotFound,
    ProbableDuplicate,
    StaleVersion,
)
from regenpath.services.ports import Clock, IdFactory, Page, PatientQuery, UnitOfWork


@dataclass(frozen=True)
class PatientDetails:
    clinic_id: UUID
    mrn: str
    family_name: str
    given_name: str
    birth_date: date
    sex: AdministrativeSex
    phone: str | None = None
    email: str | None = None
    # ID-2: why this is another person than the look-alikes already registered, if any.
    duplicate_reason: str | None = None


def register_patient(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, details: PatientDetails
) -> Patient:
    now = clock.now()
    patient = Patient(
        id=new_id(),
        clinic_id=details.clinic_id,
        mrn=details.mrn.strip(),
        family_name=details.family_name.strip(),
        given_name=details.given_name.strip(),
        birth_date=details.birth_date,
        sex=details.sex,
        phone=details.phone,
        email=details.email,
        created_at=now,
    )
    with failures_recorded(uow, clock, AuditAction.CREATE, "patient", patient.id):
        patient.validate(today=now.date())
        with uow:
            if uow.clinics.get(details.clinic_id) is None:
                raise InvalidReference("clinic_id", "no such clinic")
            if uow.patients.get_by_mrn(details.clinic_id, patient.mrn) is not None:
                raise DuplicateValue("mrn", f"MRN {patient.mrn} is already in use in this clinic")
            alike = [
                other
                for other in uow.patients.born_on(details.clinic_id, patient.birth_date)
                if probably_same_person(patient, other)
            ]
            reason = (details.duplicate_reason or "").strip()
            if alike and not reason:
                raise ProbableDuplicate([(p.id, p.mrn, p.display_name) for p in alike])
            uow.patients.add(patient)
            record(
                uow,
                clock,
                AuditAction.CREATE,
                "patient",
                patient.id,
                patient.clinic_id,
                reason=reason if alike else None,
                detail="registered beside look-alike MRN " + ", ".join(p.mrn for p in alike)
                if alike
                else None,
            )
            uow.commit()
    return patient


def get_patient(uow: UnitOfWork, clock: Clock, patient_id: UUID) -> Patient:
    return read_one(uow, clock, "patient", patient_id, lambda: uow.patients.get(patient_id))


def update_patient(
    uow: UnitOfWork,
    clock: Clock,
    patient_id: UUID,
    changes: dict[str, object],
    expected_version: int,
) -> Patient:
    with failures_recorded(uow, clock, AuditAction.UPDATE, "patient", patient_id):
        return _update_patient(uow, clock, patient_id, changes, expected_version)


def _update_patient(
    uow: UnitOfWork,
    clock: Clock,
    patient_id: UUID,
    changes: dict[str, object],
    expected_version: int,
) -> Patient:
    unknown = set(changes) - CORRECTABLE_FIELDS
    if unknown:
        raise InvalidReference(sorted(unknown)[0], "this field cannot be changed")
    with uow:
        current = uow.patients.get(patient_id)
        if current is None:
            raise NotFound("patient", patient_id)
        if current.version != expected_version:
            raise StaleVersion("patient", patient_id, expected_version, current.version)
        updated = replace(current, **changes)  # type: ignore[arg-type]
        now = clock.now()
        updated.validate(today=now.date())
        uow.patients.update(updated, expected_version, now)
        record(
            uow,
            clock,
            AuditAction.UPDATE,
            "patient",
            patient_id,
            updated.clinic_id,
            detail="changed: " + ", ".join(sorted(changes)),
        )
        uow.commit()
    return updated


def search_patients(uow: UnitOfWork, clock: Clock, query: PatientQuery) -> Page[Patient]:
    with uow:
        page = uow.patients.search(query)
        record_search(
            uow,
            clock,
            "patient",
            query.clinic_id,
            {"name": query.name, "mrn": query.mrn, "birth_date": query.birth_date},
            found=len(page.items),
        )
        uow.commit()
    return page
