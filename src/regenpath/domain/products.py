"""Cell products: what a product is, where it stands, and whether it may go into a patient.

The product's full record lives beside this module: its identification code (isbt128.py),
processing and QC against a release specification (quality.py), custody (custody.py), the
donor (donors.py) and the harvest and injection records (procedures.py). The pathway asks the
questions answered here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from regenpath.domain.errors import Guard, GuardFailure, InvalidValue, TransitionRefused


class CellSource(StrEnum):
    """Whose cells: the patient's own (harvested in this cycle) or a tested donor's."""

    AUTOLOGOUS = "autologous"
    ALLOGENEIC = "allogeneic"


class ProductStatus(StrEnum):
    IN_PROCESSING = "in_processing"
    QUARANTINE = "quarantine"  # processed or received, not yet released (DON-5, DON-7)
    RELEASED = "released"
    ADMINISTERED = "administered"
    DISCARDED = "discarded"  # rejected at release, or disposed of
    EXPIRED = "expired"
    RECALLED = "recalled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


# Statuses in which the product is still on the shelf and can run out of time (EXP-1).
_SHELF_STATUSES = frozenset(
    {ProductStatus.IN_PROCESSING, ProductStatus.QUARANTINE, ProductStatus.RELEASED}
)


class ProductType(StrEnum):
    """What the product is. The ISBT 128 product description codes are licensed from ICCBBA
    (ISBT-3), so the type is the clinic's own vocabulary; FHIR carries the code when known."""

    BMA = "bma"  # bone marrow aspirate, not concentrated
    BMAC = "bmac"  # bone marrow aspirate concentrate
    MICROFRAGMENTED_ADIPOSE = "microfragmented_adipose"
    ADIPOSE_SVF = "adipose_svf"  # stromal vascular fraction
    CORD_BLOOD = "cord_blood"
    UMBILICAL_CORD_MSC = "umbilical_cord_msc"

    @property
    def label(self) -> str:
        return _TYPE_LABELS[self]

    @property
    def source(self) -> CellSource:
        if self in (ProductType.CORD_BLOOD, ProductType.UMBILICAL_CORD_MSC):
            return CellSource.ALLOGENEIC
        return CellSource.AUTOLOGOUS


_TYPE_LABELS = {
    ProductType.BMA: "Bone marrow aspirate",
    ProductType.BMAC: "Bone marrow aspirate concentrate (BMAC)",
    ProductType.MICROFRAGMENTED_ADIPOSE: "Microfragmented adipose tissue",
    ProductType.ADIPOSE_SVF: "Adipose stromal vascular fraction",
    ProductType.CORD_BLOOD: "Umbilical cord blood cells",
    ProductType.UMBILICAL_CORD_MSC: "Umbilical cord mesenchymal stromal cells",
}

# EXP-1 (docs/rules.md): fresh bone marrow keeps <= 48 h at room temperature (72 h at
# 2-6 C); no published limit exists for point-of-care orthobiologics [U], so fresh autologous
# products default to 48 h. Cryopreserved donor products keep the supplier's dating; three
# years is the default here [U]. Every value is configurable (REGENPATH_PRODUCT_MAX_HOLD_HOURS).
DEFAULT_MAX_HOLD_HOURS: dict[ProductType, float] = {
    ProductType.BMA: 48.0,
    ProductType.BMAC: 48.0,
    ProductType.MICROFRAGMENTED_ADIPOSE: 48.0,
    ProductType.ADIPOSE_SVF: 48.0,
    ProductType.CORD_BLOOD: 24.0 * 365 * 3,
    ProductType.UMBILICAL_CORD_MSC: 24.0 * 365 * 3,
}


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
    """A cell product, from collection (or receipt from a donor) to injection or disposal."""

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
    din: str = field(kw_only=True)  # the 13-character ISBT 128 DIN (TRK-1: no identifiers)
    product_type: ProductType = field(kw_only=True)
    volume_ml: float | None = field(default=None, kw_only=True)
    donor_id: UUID | None = field(default=None, kw_only=True)
    lot_number: str | None = field(default=None, kw_only=True)
    processing_finished_at: datetime | None = field(default=None, kw_only=True)
    disposition_reason: str | None = field(default=None, kw_only=True)
    recalled_at: datetime | None = field(default=None, kw_only=True)

    @classmethod
    def harvest(
        cls,
        *,
        id: UUID,
        clinic_id: UUID,
        patient_id: UUID,
        collected_at: datetime,
        max_hold: timedelta,
        din: str,
        product_type: ProductType,
        volume_ml: float | None = None,
    ) -> Product:
        """The autologous product of a harvest, labelled for its own patient only.

        DON-1 (21 CFR 1271.90): autologous, so no donor-eligibility determination.
        EXP-1 (docs/rules.md): expiry counts from collection, ``max_hold`` is the
        clinic's configured maximum hold time for the product type.
        """
        if product_type.source is not CellSource.AUTOLOGOUS:
            raise InvalidValue("product_type", f"{product_type.label} is not made by a harvest")
        return cls(
            id=id,
            clinic_id=clinic_id,
            source=CellSource.AUTOLOGOUS,
            status=ProductStatus.IN_PROCESSING,
            donor_eligibility=DonorEligibility.NOT_REQUIRED,
            collected_at=collected_at,
            expires_at=collected_at + _positive(max_hold),
            intended_patient_id=patient_id,
            din=din,
            product_type=product_type,
            volume_ml=_volume(volume_ml),
        )

    @classmethod
    def from_donor(
        cls,
        *,
        id: UUID,
        clinic_id: UUID,
        donor_id: UUID,
        donor_eligibility: DonorEligibility,
        collected_at: datetime,
        max_hold: timedelta,
        din: str,
        product_type: ProductType,
        volume_ml: float | None = None,
        lot_number: str | None = None,
    ) -> Product:
        """A donor (allogeneic) product booked into stock.

        DON-5 (21 CFR 1271.60(a)): quarantined until the donor-eligibility determination is
        complete, and then until the lab releases it (DON-7).
        """
        if product_type.source is not CellSource.ALLOGENEIC:
            raise InvalidValue("product_type", f"{product_type.label} is not a donor product")
        return cls(
            id=id,
            clinic_id=clinic_id,
            source=CellSource.ALLOGENEIC,
            status=ProductStatus.QUARANTINE,
            donor_eligibility=donor_eligibility,
            collected_at=collected_at,
            expires_at=collected_at + _positive(max_hold),
            din=din,
            product_type=product_type,
            volume_ml=_volume(volume_ml),
            donor_id=donor_id,
            lot_number=(lot_number or "").strip() or None,
            processing_finished_at=collected_at,
        )

    def status_at(self, now: datetime) -> ProductStatus:
        """The status as the shelf shows it: a product past its expiry is expired (EXP-1)."""
        if self.status in _SHELF_STATUSES and now >= self.expires_at:
            return ProductStatus.EXPIRED
        return self.status

    def finish_processing(self, now: datetime) -> None:
        """Processing done: the product waits in quarantine for QC and release."""
        if self.status is not ProductStatus.IN_PROCESSING:
            raise TransitionRefused(
                [
                    GuardFailure(
                        Guard.PRODUCT_NOT_AWAITING_RELEASE,
                        f"The product is {self.status.label.lower()}, not in processing.",
                    )
                ]
            )
        self.status = ProductStatus.QUARANTINE
        self.processing_finished_at = now

    def release(self, now: datetime, qc_failures: list[GuardFailure]) -> None:
        """The lab's release decision (DON-7, 21 CFR 1271.265(c)); refused with every reason."""
        failures = release_refusals(self, qc_failures, now)
        if failures:
            raise TransitionRefused(failures)
        self.status = ProductStatus.RELEASED
        self.released_at = now

    def reject(self, reason: str) -> None:
        if self.status not in (ProductStatus.IN_PROCESSING, ProductStatus.QUARANTINE):
            raise TransitionRefused(
                [
                    GuardFailure(
                        Guard.PRODUCT_NOT_AWAITING_RELEASE,
                        f"The product is {self.status.label.lower()}; only a product awaiting "
                        "release can be rejected.",
                    )
                ]
            )
        if not reason.strip():
            raise InvalidValue("reason", "say why the product is rejected")
        self.status = ProductStatus.DISCARDED
        self.disposition_reason = reason.strip()

    def recall(self, now: datetime, reason: str) -> bool:
        """Mark the product recalled; True when it was still usable and is now withdrawn.

        An administered product keeps its status (it is in a patient) and carries the recall
        date; the patient is followed up by a recall task (TRK-1).
        """
        if self.recalled_at is not None:
            return False
        self.recalled_at = now
        self.disposition_reason = reason.strip()
        if self.status in _SHELF_STATUSES:
            self.status = ProductStatus.RECALLED
            return True
        return False

    def allocate_to(self, patient_id: UUID) -> None:
        self.intended_patient_id = patient_id

    def administer(self, now: datetime) -> None:
        self.status = ProductStatus.ADMINISTERED
        self.administered_at = now


def _positive(max_hold: timedelta) -> timedelta:
    if max_hold <= timedelta(0):
        raise InvalidValue("max_hold", "the maximum hold time must be positive")
    return max_hold


def _volume(volume_ml: float | None) -> float | None:
    if volume_ml is not None and not 0 < volume_ml <= 1000:
        raise InvalidValue("volume_ml", "a product volume is between 0 and 1000 mL")
    return volume_ml


def release_refusals(
    product: Product, qc_failures: list[GuardFailure], now: datetime
) -> list[GuardFailure]:
    """Why the lab may not release this product now (empty when it may).

    DON-7 (21 CFR 1271.265(c)): no release while quarantined for an incomplete
    donor-eligibility determination (DON-5), from an ineligible donor (DON-6), or while the
    QC results miss the release specification (QC-1); EXP-1: never past expiry.
    """
    failures: list[GuardFailure] = []
    if product.recalled_at is not None:
        failures.append(GuardFailure(Guard.PRODUCT_RECALLED, "The product has been recalled."))
    elif product.status is not ProductStatus.QUARANTINE:
        failures.append(
            GuardFailure(
                Guard.PRODUCT_NOT_AWAITING_RELEASE,
                f"The product is {product.status.label.lower()}: only a processed product "
                "awaiting release can be released.",
            )
        )
    failures += _donor_failures(product)
    failures += qc_failures
    if now >= product.expires_at:
        failures.append(_expired(product))
    return failures


def _donor_failures(product: Product) -> list[GuardFailure]:
    if product.donor_eligibility is DonorEligibility.INCOMPLETE:
        return [
            GuardFailure(
                Guard.DONOR_ELIGIBILITY_INCOMPLETE,
                "The donor-eligibility determination is not complete (DON-5).",
            )
        ]
    if product.donor_eligibility is DonorEligibility.INELIGIBLE:
        return [GuardFailure(Guard.DONOR_INELIGIBLE, "The donor is ineligible (DON-6).")]
    return []


def _expired(product: Product) -> GuardFailure:
    return GuardFailure(
        Guard.PRODUCT_EXPIRED,
        f"The product expired at {product.expires_at.isoformat(timespec='minutes')}.",
    )


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
    second_verifier: str | None = None  # the second person of a two-person check
    scanned_din: str | None = None  # what was scanned or typed from the label
    mismatches: tuple[str, ...] = ()


def release_blockers(product: Product, now: datetime) -> list[GuardFailure]:
    """Why this product may not be used yet, release-wise (empty when it may).

    DON-5 (21 CFR 1271.60): quarantined until the donor-eligibility determination is complete.
    DON-6/DON-7 (21 CFR 1271.65, 1271.265(c)): an ineligible donor's product is blocked.
    EXP-1 (docs/rules.md): nothing is used past its expiry.
    """
    failures: list[GuardFailure] = []
    if product.recalled_at is not None:
        failures.append(GuardFailure(Guard.PRODUCT_RECALLED, "The product has been recalled."))
    elif product.status is ProductStatus.QUARANTINE:
        failures.append(GuardFailure(Guard.PRODUCT_QUARANTINED, "The product is in quarantine."))
    elif product.status is not ProductStatus.RELEASED:
        failures.append(
            GuardFailure(
                Guard.PRODUCT_NOT_RELEASED,
                f"The product is {product.status.label.lower()}, not released.",
            )
        )
    failures += _donor_failures(product)
    if now >= product.expires_at:
        failures.append(_expired(product))
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
