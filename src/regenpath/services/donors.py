"""Use cases for donors of allogeneic products: registration, tests, the signed eligibility
determination (21 CFR 1271 subpart C), and booking the donor's products into stock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from regenpath.domain.access import StaffMember
from regenpath.domain.audit import AuditAction
from regenpath.domain.custody import CustodyKind, custody_event
from regenpath.domain.donors import (
    Donor,
    DonorAssessment,
    DonorTest,
    DonorTestResult,
    DonorTissue,
    Screening,
    SpecimenSource,
    TestResult,
    assess_donor,
    determine,
)
from regenpath.domain.errors import refuse_future
from regenpath.domain.products import DonorEligibility, Product, ProductType
from regenpath.services.audit import failures_recorded, record
from regenpath.services.errors import InvalidReference, NotFound
from regenpath.services.lab import LabSettings
from regenpath.services.ports import Clock, IdFactory, UnitOfWork
from regenpath.services.signatures import Signer, add_signature


@dataclass(frozen=True)
class RegisterDonor:
    clinic_id: UUID
    code: str
    tissue: DonorTissue
    living: bool
    recovered_at: datetime
    screening: Screening


def register_donor(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, command: RegisterDonor
) -> Donor:
    with failures_recorded(uow, clock, AuditAction.CREATE, "donor", None), uow:
        if uow.clinics.get(command.clinic_id) is None:
            raise InvalidReference("clinic_id", "no such clinic")
        donor = Donor.register(
            id=new_id(),
            clinic_id=command.clinic_id,
            code=command.code,
            tissue=command.tissue,
            living=command.living,
            recovered_at=command.recovered_at,
            screening=command.screening,
            now=clock.now(),
        )
        uow.donors.add(donor)
        record(uow, clock, AuditAction.CREATE, "donor", donor.id, donor.clinic_id)
        uow.commit()
    return donor


@dataclass(frozen=True)
class RecordDonorTest:
    donor_id: UUID
    test: DonorTest
    result: TestResult
    specimen_collected_at: datetime
    specimen_source: SpecimenSource
    assay: str


def record_donor_test(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, staff: StaffMember, command: RecordDonorTest
) -> DonorTestResult:
    with failures_recorded(uow, clock, AuditAction.UPDATE, "donor", command.donor_id), uow:
        donor = _donor(uow, command.donor_id)
        refuse_future(
            "specimen_collected_at", command.specimen_collected_at, clock.now(), "a specimen"
        )
        result = DonorTestResult(
            id=new_id(),
            donor_id=donor.id,
            test=command.test,
            result=command.result,
            specimen_collected_at=command.specimen_collected_at,
            specimen_source=command.specimen_source,
            assay=command.assay.strip(),
            recorded_by=staff.display_name,
        )
        uow.donors.add_result(result)
        record(
            uow,
            clock,
            AuditAction.UPDATE,
            "donor",
            donor.id,
            donor.clinic_id,
            detail=f"test {result.test}: {result.result}",
        )
        uow.commit()
    return result


@dataclass(frozen=True)
class DonorRecord:
    donor: Donor
    results: list[DonorTestResult]
    assessment: DonorAssessment
    products: list[Product]


def donor_record(uow: UnitOfWork, clock: Clock, donor_id: UUID) -> DonorRecord:
    with failures_recorded(uow, clock, AuditAction.READ, "donor", donor_id), uow:
        donor = _donor(uow, donor_id)
        results = uow.donors.results(donor.id)
        found = DonorRecord(
            donor, results, assess_donor(donor, results), uow.products.for_donor(donor.id)
        )
        record(uow, clock, AuditAction.READ, "donor", donor.id, donor.clinic_id)
        uow.commit()
    return found


def list_donors(uow: UnitOfWork, clinic_id: UUID | None = None) -> list[Donor]:
    with uow:
        return uow.donors.all(clinic_id)


def determine_eligibility(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    signer: Signer,
    donor_id: UUID,
    decision: DonorEligibility,
    reason: str | None = None,
) -> Donor:
    """The responsible person's determination under their e-signature (DON-7, 1271.50).

    The donor's products take the determination: until it is eligible they stay quarantined
    (DON-5); an ineligible donor's products are blocked from release (DON-6, DON-7).
    """
    with failures_recorded(uow, clock, AuditAction.SIGN, "donor", donor_id):
        with uow:
            _donor(uow, donor_id)
        signer.reauthenticate(uow, clock)
        with uow:
            donor = _donor(uow, donor_id)
            results = uow.donors.results(donor.id)
            assessment = assess_donor(donor, results)
            determine(
                donor,
                assessment,
                decision,
                by=signer.staff.display_name,
                reason=reason,
                now=clock.now(),
            )
            uow.donors.save(donor)
            for product in uow.products.for_donor(donor.id):
                product.donor_eligibility = decision
                uow.products.save(product)
            content = {
                "donor_id": str(donor.id),
                "code": donor.code,
                "determination": decision.value,
                "reason": donor.determination_reason,
                "results": sorted((r.test.value, r.result.value) for r in results),
            }
            add_signature(uow, clock, new_id, signer, "donor", donor.id, donor.clinic_id, content)
            uow.commit()
    return donor


@dataclass(frozen=True)
class ReceiveDonorProduct:
    donor_id: UUID
    product_type: ProductType
    volume_ml: float | None = None
    lot_number: str | None = None
    received_from: str = "Supplier"
    location: str = "Lab cryostorage"
    temperature_c: float | None = None


def receive_donor_product(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    lab: LabSettings,
    staff: StaffMember,
    command: ReceiveDonorProduct,
) -> Product:
    """Book a donor product into stock under a new DIN, in quarantine (DON-5), with the
    donor's current determination; expiry counts from the recovery (EXP-1)."""
    with failures_recorded(uow, clock, AuditAction.CREATE, "product", None), uow:
        donor = _donor(uow, command.donor_id)
        now = clock.now()
        product = Product.from_donor(
            id=new_id(),
            clinic_id=donor.clinic_id,
            donor_id=donor.id,
            donor_eligibility=donor.eligibility,
            collected_at=donor.recovered_at,
            max_hold=lab.max_hold[command.product_type],
            din=lab.new_din(uow, now).code,
            product_type=command.product_type,
            volume_ml=command.volume_ml,
            lot_number=command.lot_number,
        )
        uow.products.add(product)
        uow.lab.add_custody(
            custody_event(
                id=new_id(),
                product_id=product.id,
                collected_at=product.collected_at,
                kind=CustodyKind.RECEIVED,
                from_party=command.received_from,
                to_party=staff.display_name,
                location=command.location,
                occurred_at=now,
                recorded_by=staff.display_name,
                now=now,
                temperature_c=command.temperature_c,
            )
        )
        record(
            uow,
            clock,
            AuditAction.CREATE,
            "product",
            product.id,
            donor.clinic_id,
            detail=product.din,
        )
        uow.commit()
    return product


def _donor(uow: UnitOfWork, donor_id: UUID) -> Donor:
    donor = uow.donors.get(donor_id)
    if donor is None:
        raise NotFound("donor", donor_id)
    return donor
