"""The API's request and response bodies (Pydantic v2)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from regenpath.domain.episodes import Episode
from regenpath.domain.pathway import Stage, allowed_transitions
from regenpath.domain.patients import AdministrativeSex, Clinic, Patient
from regenpath.domain.procedures import Laterality
from regenpath.domain.products import CellSource, VerificationMethod
from regenpath.services.ports import EpisodeSummary, TimelineEntry

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Mrn = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
]
Icd10cm = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_upper=True,
        pattern=r"^[A-TV-Za-tv-z][0-9][0-9A-Za-z](\.[0-9A-Za-z]{1,4})?$",
    ),
]


class Strict(BaseModel):
    """Request bodies refuse unknown fields: a typo should be an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ClinicCreate(Strict):
    name: Text
    time_zone: str = Field(default="UTC", examples=["America/Chicago"], max_length=64)


class Out(BaseModel):
    """Response bodies read the domain objects' attributes: one mapping, kept by Pydantic."""

    model_config = ConfigDict(from_attributes=True)


class ClinicOut(Out):
    id: UUID
    name: str
    time_zone: str
    created_at: datetime
    phone: str | None

    @classmethod
    def of(cls, clinic: Clinic) -> ClinicOut:
        return cls.model_validate(clinic)


class PatientCreate(Strict):
    clinic_id: UUID
    mrn: Mrn = Field(description="Medical record number, unique within the clinic.")
    family_name: ShortText
    given_name: ShortText
    birth_date: date
    sex: AdministrativeSex
    phone: Phone | None = None
    email: Email | None = None
    duplicate_reason: Reason | None = Field(
        default=None,
        description="ID-2: why this is another person than the look-alikes the server named"
        " (same birth date and sex, a name alike); needed only after such a 409.",
    )


class PatientUpdate(Strict):
    version: int = Field(ge=1, description="The version you read; a stale one answers 409.")
    family_name: ShortText | None = None
    given_name: ShortText | None = None
    birth_date: date | None = None
    sex: AdministrativeSex | None = None
    phone: Phone | None = None
    email: Email | None = None

    def changes(self) -> dict[str, Any]:
        """Only the fields the caller sent; a sent ``null`` clears an optional field."""
        sent = self.model_fields_set - {"version"}
        return {name: getattr(self, name) for name in sent}


class PatientOut(Out):
    id: UUID
    clinic_id: UUID
    mrn: str
    family_name: str
    given_name: str
    birth_date: date
    sex: AdministrativeSex
    phone: str | None
    email: str | None
    version: int
    created_at: datetime

    @classmethod
    def of(cls, patient: Patient) -> PatientOut:
        return cls.model_validate(patient)


class PatientPage(BaseModel):
    items: list[PatientOut]
    next_cursor: str | None


class EpisodeCreate(Strict):
    patient_id: UUID
    condition_code: Icd10cm = Field(description="ICD-10-CM code", examples=["M51.36"])
    condition_text: Text = Field(examples=["Lumbar disc degeneration"])
    target_site: ShortText = Field(examples=["L4-L5 disc"])
    laterality: Laterality = Laterality.NOT_APPLICABLE


class CycleOut(Out):
    id: UUID
    number: int
    cell_source: CellSource
    stage: Stage
    planned_at: datetime
    product_id: UUID | None
    administered_at: datetime | None


class AllowedTransition(BaseModel):
    to: Stage
    action: str


class EpisodeOut(Out):
    id: UUID
    clinic_id: UUID
    patient_id: UUID
    condition_code: str
    condition_text: str
    target_site: str
    laterality: Laterality
    stage: Stage
    version: int
    opened_at: datetime
    consented_at: datetime | None
    closed_at: datetime | None
    cycles: list[CycleOut]
    allowed_transitions: list[AllowedTransition] = Field(
        description="Moves the pathway table allows from here; guards are checked on the move."
    )

    @classmethod
    def of(cls, episode: Episode) -> EpisodeOut:
        return cls.model_validate(
            {
                **{
                    name: getattr(episode, name)
                    for name in cls.model_fields
                    if name != "allowed_transitions"
                },
                "allowed_transitions": [
                    AllowedTransition(to=t.target, action=t.action)
                    for t in allowed_transitions(episode.stage)
                ],
            }
        )


class EpisodeSummaryOut(EpisodeOut):
    patient_name: str
    patient_mrn: str
    stage_since: datetime

    @classmethod
    def of_summary(cls, summary: EpisodeSummary) -> EpisodeSummaryOut:
        return cls(
            **EpisodeOut.of(summary.episode).model_dump(),
            patient_name=summary.patient_name,
            patient_mrn=summary.patient_mrn,
            stage_since=summary.stage_since,
        )


class EpisodePage(BaseModel):
    items: list[EpisodeSummaryOut]
    next_cursor: str | None


class TransitionIn(Strict):
    to: Stage
    version: int = Field(ge=1, description="The episode version you read; stale -> 409.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    cell_source: CellSource | None = Field(
        default=None, description="Required when planning a cycle."
    )
    product_id: UUID | None = Field(
        default=None, description="The donor product, when allocating one."
    )


class TransitionOut(BaseModel):
    episode: EpisodeOut
    events: list[dict[str, Any]]


class TimelineEntryOut(Out):
    from_stage: Stage
    to_stage: Stage
    occurred_at: datetime
    cycle_number: int | None
    reason: str | None
    events: list[dict[str, Any]]

    @classmethod
    def of(cls, entry: TimelineEntry) -> TimelineEntryOut:
        return cls.model_validate(entry)


class BedsideCheckIn(Strict):
    scanned_din: str = Field(
        min_length=13,
        max_length=20,
        description="The label's DIN as scanned or typed; a 14th character is checked as "
        "the ISO 7064 check character.",
        examples=["W999926000001"],
    )
    wristband_mrn: Mrn
    wristband_birth_date: date
    method: VerificationMethod
    second_verifier: Text | None = Field(
        default=None, description="The second person of a two-person check."
    )


class BedsideCheckOut(Out):
    id: UUID
    product_id: UUID
    patient_id: UUID
    passed: bool
    method: VerificationMethod
    verified_at: datetime
    verified_by: str
    second_verifier: str | None
    scanned_din: str | None
    mismatches: list[str]


class WorklistCounts(BaseModel):
    clinic_id: UUID | None
    counts: dict[Stage, int]
