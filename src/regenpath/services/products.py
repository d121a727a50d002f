"""Use cases for products at the pathway's edge: donor stock and the bedside check.

The product issue adds the full record (donors, processing, QC, labels, custody); these two are
what the pathway needs to be walked end to end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from regenpath.domain.audit import AuditAction, AuditOutcome
from regenpath.domain.products import (
    BedsideVerification,
    CellSource,
    DonorEligibility,
    Product,
    ProductStatus,
    VerificationMethod,
)
from regenpath.services.audit import record
from regenpath.services.errors import InvalidReference, NotFound
from regenpath.services.ports import Clock, IdFactory, UnitOfWork


@dataclass(frozen=True)
class BedsideCheck:
    """What the nurse scanned or read at the bedside (BED-1)."""

    episode_id: UUID
    scanned_product_id: UUID
    wristband_mrn: str
    wristband_birth_date: date
    method: VerificationMethod
    verified_by: str


@dataclass(frozen=True)
class BedsideOutcome:
    verification: BedsideVerification
    mismatches: list[str]


def verify_at_bedside(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, check: BedsideCheck
) -> BedsideOutcome:
    """Match wristband to patient and label to the cycle's product, and record the result.

    BED-1 (Joint Commission NPSG.01.01.01, applied by analogy): at least two patient
    identifiers (here MRN and birth date, never a room number), and the product label against
    the order. A failed check is recorded too: it is the hard stop that blocks the injection.
    """
    if not check.verified_by.strip():
        raise InvalidReference("verified_by", "name who verified")
    with uow:
        episode = uow.episodes.get(check.episode_id)
        if episode is None:
            raise NotFound("episode", check.episode_id)
        patient = uow.patients.get(episode.patient_id)
        if patient is None:
            raise NotFound("patient", episode.patient_id)
        cycle = episode.current_cycle
        if cycle is None or cycle.product_id is None:
            raise InvalidReference("scanned_product_id", "this episode has no product to verify")
        mismatches = []
        if check.wristband_mrn.strip() != patient.mrn:
            mismatches.append("wristband MRN does not match the patient")
        if check.wristband_birth_date != patient.birth_date:
            mismatches.append("wristband birth date does not match the patient")
        if check.scanned_product_id != cycle.product_id:
            mismatches.append("the product label is not this cycle's product")
        verification = BedsideVerification(
            id=new_id(),
            product_id=cycle.product_id,
            patient_id=patient.id,
            method=check.method,
            passed=not mismatches,
            verified_at=clock.now(),
            verified_by=check.verified_by.strip(),
        )
        uow.products.add_verification(verification)
        record(
            uow,
            clock,
            AuditAction.VERIFY,
            "product",
            verification.product_id,
            episode.clinic_id,
            outcome=AuditOutcome.SUCCEEDED if verification.passed else AuditOutcome.DENIED,
            detail="bedside check: " + ("; ".join(mismatches) or "patient and product match"),
        )
        uow.commit()
    return BedsideOutcome(verification, mismatches)


def receive_donor_product(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    *,
    clinic_id: UUID,
    collected_at: datetime,
    expires_at: datetime,
    donor_eligibility: DonorEligibility,
) -> Product:
    """Book a tested donor (allogeneic) product into a clinic's stock.

    DON-5 (21 CFR 1271.60): it stays in quarantine until the donor-eligibility determination
    is complete; only an eligible donor's product is released.
    """
    status = (
        ProductStatus.RELEASED
        if donor_eligibility is DonorEligibility.ELIGIBLE
        else ProductStatus.QUARANTINE
    )
    product = Product(
        id=new_id(),
        clinic_id=clinic_id,
        source=CellSource.ALLOGENEIC,
        status=status,
        donor_eligibility=donor_eligibility,
        collected_at=collected_at,
        expires_at=expires_at,
        released_at=clock.now() if status is ProductStatus.RELEASED else None,
    )
    with uow:
        if uow.clinics.get(clinic_id) is None:
            raise InvalidReference("clinic_id", "no such clinic")
        uow.products.add(product)
        uow.commit()
    return product


def available_donor_products(uow: UnitOfWork, clinic_id: UUID) -> list[Product]:
    """Released donor products not yet allocated to anyone, soonest expiry first."""
    with uow:
        return uow.products.available_donor_products(clinic_id)
