"""The safety API's bodies: adverse events and regulatory reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from regenpath.domain.safety import (
    AdverseEvent,
    AeOutcome,
    AeSource,
    ConcernLevel,
    PatientReport,
    RegulatoryReport,
    Relatedness,
    ReportForm,
    ReportStatus,
    Seriousness,
    TriageOutcome,
)
from regenpath.domain.tasks import DeviationKind
from regenpath.entrypoints.api.schemas import Out, Strict
from regenpath.services.safety import RecordAdverseEvent, RecordDeviation

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


class AdverseEventIn(Strict):
    term_code: str = Field(max_length=40, description="A code of the AE-5 catalogue.")
    onset_on: date
    grade: int = Field(description="CTCAE v5 grade, 1-5 (AE-1).")
    seriousness: list[Seriousness] = Field(default_factory=list, description="AE-2 criteria.")
    outcome: AeOutcome
    description: Note = ""
    related_harvest: Relatedness | None = None
    related_product: Relatedness | None = None
    related_injection: Relatedness | None = None
    unexpected: bool = False
    resolved_on: date | None = None
    source: AeSource = AeSource.STAFF
    patient_report_id: UUID | None = Field(
        default=None,
        description="The patient's portal report this records: its triage closes, and the"
        " reporting clocks count from the day the patient reported it.",
    )

    def command(self, episode_id: UUID) -> RecordAdverseEvent:
        values = self.model_dump()
        return RecordAdverseEvent(
            episode_id=episode_id, **values | {"seriousness": frozenset(self.seriousness)}
        )


class PatientReportOut(Out):
    id: UUID
    clinic_id: UUID
    patient_id: UUID
    episode_id: UUID
    reported_at: datetime
    description: str
    concern: ConcernLevel
    started_on: date | None
    triage: TriageOutcome
    triaged_at: datetime | None
    triaged_by: str | None
    triage_note: str
    adverse_event_id: UUID | None

    @classmethod
    def of(cls, report: PatientReport) -> PatientReportOut:
        return cls.model_validate(report)


class DismissalIn(Strict):
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class AdverseEventOut(BaseModel):
    id: UUID
    episode_id: UUID
    term_code: str
    term: str
    onset_on: date
    grade: int
    serious: bool
    seriousness: list[Seriousness]
    outcome: AeOutcome
    related_harvest: Relatedness | None
    related_product: Relatedness | None
    related_injection: Relatedness | None
    unexpected: bool
    resolved_on: date | None
    discovered_at: datetime
    recorded_by: str
    product_ids: list[UUID]

    @classmethod
    def of(cls, event: AdverseEvent) -> AdverseEventOut:
        return cls(
            id=event.id,
            episode_id=event.episode_id,
            term_code=event.term.code,
            term=event.term.label,
            onset_on=event.onset_on,
            grade=event.grade,
            serious=event.serious,
            seriousness=sorted(event.seriousness),
            outcome=event.outcome,
            related_harvest=event.related_harvest,
            related_product=event.related_product,
            related_injection=event.related_injection,
            unexpected=event.unexpected,
            resolved_on=event.resolved_on,
            discovered_at=event.discovered_at,
            recorded_by=event.recorded_by,
            product_ids=list(event.product_ids),
        )


class ReportOut(Out):
    id: UUID
    rule_id: str
    form: ReportForm
    subject_type: str
    subject_id: UUID
    episode_id: UUID | None
    discovered_on: date
    due_on: date
    reasons: list[str]
    status: ReportStatus
    submitted_on: date | None
    reference: str | None


class RecordedOut(BaseModel):
    adverse_event: AdverseEventOut
    reports: list[ReportOut]


class SubmissionIn(Strict):
    submitted_on: date
    reference: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]


class BoardOut(BaseModel):
    today: date
    reports: list[dict[str, Any]]

    @classmethod
    def of(cls, reports: list[RegulatoryReport], today: date) -> BoardOut:
        return cls(
            today=today,
            reports=[
                ReportOut.model_validate(r).model_dump(mode="json")
                | {"overdue": r.overdue(today), "days_left": r.days_left(today)}
                for r in reports
            ],
        )


class DeviationIn(Strict):
    clinic_id: UUID
    kind: DeviationKind = DeviationKind.PROTOCOL
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)
    ]
    distributed: bool = Field(description="The product had left the lab (RPT-2 applies).")
    din: str | None = Field(default=None, max_length=20, description="The product's DIN, if any.")

    def command(self) -> RecordDeviation:
        return RecordDeviation(**self.model_dump())


class DeviationOut(BaseModel):
    id: UUID
    kind: DeviationKind
    product_id: UUID | None
    distributed: bool
    report: ReportOut | None
