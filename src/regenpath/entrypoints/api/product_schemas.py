"""Bodies of the product routes: harvest, processing, QC, release, custody, donors, lookback,
the bedside check and the injection."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from regenpath.domain.custody import CustodyKind
from regenpath.domain.donors import DonorTest, DonorTissue, Screening, SpecimenSource, TestResult
from regenpath.domain.isbt128 import parse_din
from regenpath.domain.procedures import (
    AdiposeMethod,
    Anaesthesia,
    Approach,
    Guidance,
    HarvestSite,
    HarvestSource,
    InjectionSite,
    Side,
    TimeOutItem,
)
from regenpath.domain.products import (
    CellSource,
    DonorEligibility,
    Product,
    ProductStatus,
    ProductType,
)
from regenpath.domain.quality import ProcessingKind, QcOutcome, QcTest
from regenpath.domain.signatures import SignatureMeaning
from regenpath.entrypoints.api.schemas import Out, Strict, Text
from regenpath.services.lab import RecordHarvest
from regenpath.services.products import RecordInjection

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ProductOut(BaseModel):
    id: UUID
    clinic_id: UUID
    din: str = Field(description="The 13-character ISBT 128 DIN, as in the barcode.")
    din_eye_readable: str = Field(description="As printed: with the check character.")
    product_type: ProductType
    source: CellSource
    status: ProductStatus = Field(description="Expired once past expires_at (EXP-1).")
    donor_eligibility: DonorEligibility
    donor_id: UUID | None
    lot_number: str | None
    volume_ml: float | None
    intended_patient_id: UUID | None
    collected_at: datetime
    expires_at: datetime
    processing_finished_at: datetime | None
    released_at: datetime | None
    administered_at: datetime | None
    recalled_at: datetime | None
    disposition_reason: str | None
    version: int

    @classmethod
    def of(cls, product: Product, now: datetime) -> ProductOut:
        return cls(
            **{name: getattr(product, name) for name in cls.model_fields if hasattr(product, name)}
            | {
                "status": product.status_at(now),
                "din_eye_readable": parse_din(product.din).eye_readable,
            }
        )


class HarvestIn(Strict):
    version: int = Field(ge=1, description="The episode's version, as read.")
    product_type: ProductType
    source: HarvestSource
    site: HarvestSite
    side: Side
    method: AdiposeMethod | None = None
    anaesthesia: Anaesthesia
    volume_ml: float = Field(gt=0, le=1000)
    started_at: AwareDatetime
    ended_at: AwareDatetime
    complications: Note | None = None
    nsaids_stopped: bool = Field(description="Pre-harvest checklist: NSAIDs stopped (EX-10).")
    anticoagulants_reviewed: bool = Field(
        description="Pre-harvest checklist: anticoagulants and bleeding risk reviewed (EX-5)."
    )

    def command(self, episode_id: UUID) -> RecordHarvest:
        """The use case's command, for the API route and the harvest page alike."""
        details = self.model_dump(exclude={"version"})
        return RecordHarvest(episode_id=episode_id, expected_version=self.version, **details)


class HarvestOut(BaseModel):
    harvest_id: UUID
    product: ProductOut
    episode_version: int


class ProcessingStepIn(Strict):
    kind: ProcessingKind
    started_at: AwareDatetime
    ended_at: AwareDatetime
    device: Text
    notes: Note | None = None


class ProcessingStepOut(Out):
    id: UUID
    kind: ProcessingKind
    started_at: datetime
    ended_at: datetime
    performed_by: str
    device: str
    notes: str | None


class QcResultIn(Strict):
    test: QcTest
    measured_at: AwareDatetime
    value: float | None = Field(default=None, description="Numeric tests, in the test's unit.")
    outcome: QcOutcome | None = Field(default=None, description="Gram stain and culture.")
    method: Text | None = None


class QcResultOut(Out):
    id: UUID
    test: QcTest
    value: float | None
    outcome: QcOutcome | None
    measured_at: datetime
    recorded_by: str
    method: str | None


class QcRecordedOut(BaseModel):
    result: QcResultOut
    recall_task_id: UUID | None


class QcFindingOut(BaseModel):
    test: QcTest
    status: str
    limit: str
    message: str


class ReleaseIn(Strict):
    decision: str = Field(pattern="^(release|reject)$")
    password: Password = Field(description="Re-entered: the e-signature (21 CFR 11.200).")
    reason: Note | None = Field(default=None, description="Required to reject.")
    meaning: SignatureMeaning = SignatureMeaning.APPROVAL


class CustodyIn(Strict):
    kind: CustodyKind
    from_party: Text | None = None
    to_party: Text
    location: Text
    occurred_at: AwareDatetime
    temperature_c: float | None = Field(default=None, ge=-200, le=60)


class CustodyOut(Out):
    id: UUID
    kind: CustodyKind
    from_party: str | None
    to_party: str
    location: str
    occurred_at: datetime
    temperature_c: float | None
    recorded_by: str


class TimelineItemOut(Out):
    at: datetime
    kind: str
    title: str
    detail: str
    who: str


class ProductRecordOut(BaseModel):
    product: ProductOut
    episode_id: UUID | None
    qc: list[QcFindingOut]
    processing: list[ProcessingStepOut]
    custody: list[TimelineItemOut]


class DonorIn(Strict):
    clinic_id: UUID
    code: str = Field(
        min_length=3,
        max_length=32,
        description="A tracking code: never a name, MRN or SSN (TRK-1).",
        examples=["DNR-2026-0001"],
    )
    tissue: DonorTissue
    living: bool
    recovered_at: AwareDatetime
    screening: Screening = Screening.NOT_DONE


class DonorOut(Out):
    id: UUID
    clinic_id: UUID
    code: str
    tissue: DonorTissue
    living: bool
    recovered_at: datetime
    screening: Screening
    eligibility: DonorEligibility
    determined_at: datetime | None
    determined_by: str | None
    determination_reason: str | None
    version: int


class DonorTestIn(Strict):
    test: DonorTest
    result: TestResult
    specimen_collected_at: AwareDatetime
    specimen_source: SpecimenSource = SpecimenSource.DONOR
    assay: Text


class DonorTestOut(Out):
    id: UUID
    test: DonorTest
    result: TestResult
    specimen_collected_at: datetime
    specimen_source: SpecimenSource
    assay: str
    recorded_by: str


class DonorRecordOut(BaseModel):
    donor: DonorOut
    results: list[DonorTestOut]
    supports: DonorEligibility = Field(description="What the record supports (DON-2..4).")
    reasons: list[str]
    product_ids: list[UUID]


class DeterminationIn(Strict):
    decision: DonorEligibility
    password: Password
    reason: Note | None = None


class DonorProductIn(Strict):
    product_type: ProductType
    volume_ml: float | None = Field(default=None, gt=0, le=1000)
    lot_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = (
        None
    )
    received_from: Text = "Supplier"
    location: Text = "Lab cryostorage"
    temperature_c: float | None = Field(default=None, ge=-200, le=60)


class TraceRowOut(Out):
    product_id: UUID
    din: str
    product_type: str
    status: ProductStatus
    donor_id: UUID | None
    donor_code: str | None
    lot_number: str | None
    patient_id: UUID | None
    patient_name: str | None
    patient_mrn: str | None
    episode_id: UUID | None
    administered_at: datetime | None
    recalled_at: datetime | None


class TraceOut(BaseModel):
    origin: str
    products: list[TraceRowOut]
    recipients: list[UUID]
    donors: list[str]


class RecallIn(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class TaskOut(Out):
    id: UUID
    kind: str
    title: str
    reason: str
    opened_at: datetime
    patient_id: UUID | None
    product_id: UUID | None
    status: str


class RecallOut(BaseModel):
    trace: TraceOut
    withdrawn: int
    tasks: list[TaskOut]


class InjectionSiteIn(Strict):
    target: Text = Field(examples=["L4-L5 disc", "medial tibiofemoral compartment"])
    laterality: Side
    volume_ml: float = Field(gt=0, le=100)
    cell_dose_million: float | None = Field(default=None, ge=0, le=100_000)


class InjectionIn(Strict):
    version: int = Field(ge=1, description="The episode's version, as read.")
    guidance: Guidance
    approach: Approach
    sites: list[InjectionSiteIn] = Field(min_length=1, max_length=10)
    started_at: AwareDatetime
    ended_at: AwareDatetime
    image_references: list[Text] = Field(default_factory=list, max_length=50)
    time_out: list[TimeOutItem] = Field(
        max_length=len(TimeOutItem),
        description="The time-out held before the injection (SITE-1): the items the team"
        " confirmed (patient, procedure, site, side, product); all five are needed.",
        examples=[[item.value for item in TimeOutItem]],
    )

    def command(self, episode_id: UUID) -> RecordInjection:
        """The use case's command, for the API route and the procedure-room page alike."""
        return RecordInjection(
            episode_id=episode_id,
            expected_version=self.version,
            guidance=self.guidance,
            approach=self.approach,
            sites=[InjectionSite(**site.model_dump()) for site in self.sites],
            started_at=self.started_at,
            ended_at=self.ended_at,
            image_references=self.image_references,
            time_out=frozenset(self.time_out),
        )


class InjectionOut(BaseModel):
    injection_id: UUID
    episode: dict[str, Any]
