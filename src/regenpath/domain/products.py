"""Cell products as far as the care pathway needs them: may this product go into this patient?

The full product record (ISBT 128 identification, processing, QC, labels, custody) grows on this
in the product issue; the pathway only asks the questions answered here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from regenpath.domain.errors import Guard, GuardFailure, InvalidValue


class CellSource(StrEnum):
    """Whose cells: the patient's own (harvested in this cycle) or a tested donor's."""

    AUTOLOGOUS = "autologous"
    ALLOGENEIC = "allogeneic"


class ProductStatus(StrEnum):
    IN_PROCESSING = "in_processing"
    QUARANTINE = "quarantine"
    RELEASED = "released"
    ADMINISTERED = "administered"
    DISCARDED = "discarded"
    EXPIRED = "expired"
    RECALLED = "recalled"


class DonorEligibility(StrEnum):
    """Donor-eligibility determination of 21 CFR 1271 subpart C.

    DON-1 (21 CFR 1271.90(a)(1)): autologous use needs no determination, hence NOT_REQUIRED.
    """

    NOT_REQUIRED = "not_required"
    INCOMPLETE = "incomplete"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"


class VerificationMethod(StrEnum):
    """BED-1 (Joint Commission NPSG.01.03.01, by analogy): two people, or one person and a scan."""

    TWO_PERSON = "two_person"
    BARCODE_SCAN = "barcode_scan"


@dataclass
class Product:
    """A cell product that may be administered in a treatment cycle."""

    id: UUID
    clinic_id: UUID
    source: CellSource
    status: ProductStatus
    donor_eligibility: DonorEligibility
    collected_at: datetime
    expires_at: datetime
    intended_patient_id: UUID | None = None
    released_at: datetime | None = None
    administered_at: datetime | None = None
    version: int = 1

    @classmethod
    def harvest(
        cls,
        *,
        id: UUID,
        clinic_id: UUID,
        patient_id: UUID,
        collected_at: datetime,
        max_hold: timedelta,
    ) -> Product:
        """The autologous product of a harvest, labelled for its own patient only.

        DON-1 (21 CFR 1271.90): autologous, so no donor-eligibility determination.
        EXP-1 (regulatory.md section 2): expiry counts from collection, ``max_hold`` is the
        clinic's configured maximum hold time.
        """
        if max_hold <= timedelta(0):
            raise InvalidValue("max_hold", "the maximum hold time must be positive")
        return cls(
            id=id,
            clinic_id=clinic_id,
            source=CellSource.AUTOLOGOUS,
            status=ProductStatus.IN_PROCESSING,
            donor_eligibility=DonorEligibility.NOT_REQUIRED,
            collected_at=collected_at,
            expires_at=collected_at + max_hold,
            intended_patient_id=patient_id,
        )

    def release(self, now: datetime) -> None:
        self.status = ProductStatus.RELEASED
        self.released_at = now

    def allocate_to(self, patient_id: UUID) -> None:
        self.intended_patient_id = patient_id

    def administer(self, now: datetime) -> None:
        self.status = ProductStatus.ADMINISTERED
        self.administered_at = now


@dataclass(frozen=True)
class BedsideVerification:
    """The check at the bedside that this product belongs to this patient (BED-1)."""

    id: UUID
    product_id: UUID
    patient_id: UUID
    method: VerificationMethod
    passed: bool
    verified_at: datetime
    verified_by: str


def release_blockers(product: Product, now: datetime) -> list[GuardFailure]:
    """Why this product may not be used yet, release-wise (empty when it may).

    DON-5 (21 CFR 1271.60): quarantined until the donor-eligibility determination is complete.
    DON-6/DON-7 (21 CFR 1271.65, 1271.265(c)): an ineligible donor's product is blocked.
    EXP-1 (regulatory.md section 2): nothing is used past its expiry.
    """
    failures: list[GuardFailure] = []
    if product.status is ProductStatus.QUARANTINE:
        failures.append(GuardFailure(Guard.PRODUCT_QUARANTINED, "The product is in quarantine."))
    elif product.status is not ProductStatus.RELEASED:
        failures.append(
            GuardFailure(
                Guard.PRODUCT_NOT_RELEASED,
                f"The product is {product.status.replace('_', ' ')}, not released.",
            )
        )
    if product.donor_eligibility is DonorEligibility.INCOMPLETE:
        failures.append(
            GuardFailure(
                Guard.DONOR_ELIGIBILITY_INCOMPLETE,
                "The donor-eligibility determination is not complete.",
            )
        )
    elif product.donor_eligibility is DonorEligibility.INELIGIBLE:
        failures.append(GuardFailure(Guard.DONOR_INELIGIBLE, "The donor is ineligible."))
    if now >= product.expires_at:
        failures.append(
            GuardFailure(
                Guard.PRODUCT_EXPIRED,
                f"The product expired at {product.expires_at.isoformat(timespec='minutes')}.",
            )
        )
    return failures


def administration_blockers(
    product: Product | None,
    verification: BedsideVerification | None,
    patient_id: UUID,
    now: datetime,
) -> list[GuardFailure]:
    """Why this product may not go into this patient now (empty when it may).

    On top of :func:`release_blockers`: the product must be meant for this patient, and the
    latest bedside verification of the product must have passed for this same patient (BED-1;
    a mismatch is a hard stop).
    """
    if product is None:
        return [GuardFailure(Guard.PRODUCT_REQUIRED, "No product is assigned to this cycle.")]
    failures = release_blockers(product, now)
    if product.intended_patient_id is not None and product.intended_patient_id != patient_id:
        failures.append(
            GuardFailure(Guard.PRODUCT_FOR_OTHER_PATIENT, "The product belongs to another patient.")
        )
    if verification is None or verification.product_id != product.id:
        failures.append(
            GuardFailure(
                Guard.BEDSIDE_VERIFICATION_REQUIRED,
                "No bedside verification of this product has been recorded.",
            )
        )
    elif not verification.passed or verification.patient_id != patient_id:
        failures.append(
            GuardFailure(
                Guard.BEDSIDE_VERIFICATION_FAILED,
                "The latest bedside verification did not match this patient and product.",
            )
        )
    elif verification.verified_at > now:
        failures.append(
            GuardFailure(
                Guard.BEDSIDE_VERIFICATION_REQUIRED,
                "The bedside verification is dated after the injection.",
            )
        )
    return failures
