"""Request and response bodies of the instruments and follow-up routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from regenpath.domain.followup import QuestionnaireResponse, VisitStatus
from regenpath.domain.instruments import Instrument, Score
from regenpath.services.followup import FollowUpView, VisitView

# One box (its number from 0) or several boxes ticked in one item.
AnswerValue = (
    Annotated[int, Field(strict=True)]
    | Annotated[list[Annotated[int, Field(strict=True)]], Field(min_length=1, max_length=6)]
)


class AnswersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, AnswerValue] = Field(
        max_length=100, description="Item id -> the box ticked (0 = first), or a list of boxes."
    )


class ResponseIn(AnswersIn):
    instrument: str = Field(max_length=20, description="Instrument code, e.g. rmdq.")


class ScoreOut(BaseModel):
    instrument: str
    scores: dict[str, float | None]
    answered: int
    missing: list[str]
    not_scored: dict[str, str]

    @classmethod
    def of(cls, result: Score) -> ScoreOut:
        return cls(
            instrument=result.instrument.value,
            scores=result.values,
            answered=result.answered,
            missing=list(result.missing),
            not_scored=result.not_scored,
        )


class ItemOut(BaseModel):
    id: str
    text: str | None
    options: list[str]
    subscale: str | None
    loinc: str | None


class InstrumentOut(BaseModel):
    code: str
    title: str
    version: str
    administrable: bool
    licence: str
    lower_is_better: bool
    score_range: tuple[float, float]
    mcid: float | None
    mcid_source: str
    loinc: str | None
    items: list[ItemOut]

    @classmethod
    def of(cls, instrument: Instrument) -> InstrumentOut:
        return cls(
            code=instrument.code.value,
            title=instrument.title,
            version=instrument.version,
            administrable=instrument.administrable,
            licence=instrument.licence,
            lower_is_better=instrument.lower_is_better,
            score_range=instrument.score_range,
            mcid=instrument.mcid,
            mcid_source=instrument.mcid_source,
            loinc=instrument.loinc,
            items=[
                ItemOut(
                    id=item.id,
                    text=item.text,
                    options=list(item.options),
                    subscale=item.subscale,
                    loinc=item.loinc,
                )
                for item in instrument.items
            ],
        )


class ResponseOut(BaseModel):
    id: UUID
    visit_id: UUID | None
    instrument: str
    instrument_version: str
    answers: dict[str, int]
    scores: dict[str, float | None] | None
    started_at: datetime
    completed_at: datetime | None
    entered_by: str

    @classmethod
    def of(cls, response: QuestionnaireResponse) -> ResponseOut:
        return cls.model_validate(response, from_attributes=True)


class VisitOut(BaseModel):
    id: UUID
    cycle_number: int
    label: str
    due_on: date
    opens_on: date
    closes_on: date
    status: VisitStatus
    reminders_sent: int
    cancelled: bool
    completed_at: datetime | None
    responses: list[ResponseOut]

    @classmethod
    def of(cls, view: VisitView) -> VisitOut:
        visit = view.visit
        return cls(
            id=visit.id,
            cycle_number=visit.cycle_number,
            label=visit.label,
            due_on=visit.due_on,
            opens_on=visit.opens_on,
            closes_on=visit.closes_on,
            status=view.status,
            reminders_sent=visit.reminders_sent,
            cancelled=visit.cancelled,
            completed_at=visit.completed_at,
            responses=[ResponseOut.of(r) for r in view.responses.values()],
        )


class RecoveryPlanOut(BaseModel):
    injected_on: date
    no_nsaids_until: date
    phases: list[dict[str, object]]
    milestones: list[dict[str, object]]
    nsaid_warnings: list[str]
    physiotherapy_referral: str
    lifestyle: list[str]
    acknowledged_at: datetime | None


class FollowUpOut(BaseModel):
    episode_id: UUID
    patient_id: UUID
    stage: str
    today: date
    instruments: list[str]
    baseline: dict[str, float]
    visits: list[VisitOut]
    recovery_plan: RecoveryPlanOut | None

    @classmethod
    def of(cls, view: FollowUpView) -> FollowUpOut:
        plan = view.plan
        return cls(
            episode_id=view.episode.id,
            patient_id=view.episode.patient_id,
            stage=view.episode.stage.value,
            today=view.today,
            instruments=[i.code.value for i in view.instruments],
            baseline=view.baseline,
            visits=[VisitOut.of(v) for v in view.visits],
            recovery_plan=None
            if plan is None
            else RecoveryPlanOut(
                injected_on=plan.injected_on,
                no_nsaids_until=plan.no_nsaids_until,
                phases=[vars(phase) for phase in plan.phases],
                milestones=[vars(m) for m in plan.milestones],
                nsaid_warnings=list(plan.nsaid_warnings),
                physiotherapy_referral=plan.physiotherapy_referral,
                lifestyle=list(plan.lifestyle),
                acknowledged_at=plan.acknowledged_at,
            ),
        )


class PortalLinkOut(BaseModel):
    message_id: UUID
    recipient: str
    status: str
