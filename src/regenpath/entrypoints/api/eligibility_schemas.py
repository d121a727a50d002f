"""The eligibility API's bodies: an assessment in, a decision with every finding out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints, TypeAdapter

from regenpath.domain.assessment import (
    IMAGING_RANGES,
    RANGES,
    ActivityLevel,
    Assessment,
    CareKind,
    CareResult,
    ConservativeCare,
    DiabetesControl,
    Imaging,
    ImagingModality,
    SmokingStatus,
    TargetRegion,
)
from regenpath.domain.eligibility import Decision, RuleKind, Verdict
from regenpath.domain.evaluation import DecisionKind, RecordedAssessment
from regenpath.domain.patients import AdministrativeSex
from regenpath.entrypoints.api.schemas import Strict


def _ranged(name: str, description: str | None = None) -> Any:
    """The domain's range for ``name`` (one source of truth), shown in the OpenAPI schema."""
    low, high = RANGES.get(name) or IMAGING_RANGES[name]
    return Field(default=None, ge=low, le=high, description=description)


class ConservativeCareIn(Strict):
    kind: CareKind
    months: float = Field(ge=0, le=600)
    result: CareResult


class ImagingIn(Strict):
    modality: ImagingModality
    taken_on: date
    pfirrmann_grade: int | None = _ranged("pfirrmann_grade", "Modified Pfirrmann grade.")
    modic_type: int | None = _ranged("modic_type")
    disc_height_pct: float | None = _ranged("disc_height_pct")
    levels_affected: int | None = _ranged("levels_affected")
    kellgren_lawrence_grade: int | None = _ranged("kellgren_lawrence_grade")
    spinal_infection: bool = False


class AssessmentIn(Strict):
    """What is known; leave out what is not, and the rules that need it say so."""

    region: TargetRegion
    condition_code: str | None = Field(
        default=None, max_length=10, description="ICD-10-CM, e.g. M51.36.", examples=["M51.36"]
    )
    age_years: int | None = _ranged("age_years")
    sex: AdministrativeSex | None = None
    symptom_onset: date | None = None
    back_pain_nrs: int | None = _ranged("back_pain_nrs", "Numeric rating scale, 0-10.")
    leg_pain_nrs: int | None = _ranged("leg_pain_nrs", "Numeric rating scale, 0-10.")
    pain_nrs: int | None = _ranged("pain_nrs", "The index joint's pain, 0-10.")
    odi: int | None = _ranged("odi", "Oswestry Disability Index.")
    conservative_care: list[ConservativeCareIn] | None = Field(default=None, max_length=20)
    imaging: ImagingIn | None = None
    facet_ruled_out: bool | None = None
    si_joint_ruled_out: bool | None = None
    spondylolisthesis_grade: int | None = _ranged("spondylolisthesis_grade")
    active_infection: bool | None = None
    active_malignancy: bool | None = None
    cancer_treatment_ended_on: date | None = None
    immunosuppressants: bool | None = None
    pregnant_or_breastfeeding: bool | None = None
    steroid_injections: list[date] | None = Field(default=None, max_length=50)
    intra_articular_injections: list[date] | None = Field(default=None, max_length=50)
    severe_anaemia: bool | None = None
    bleeding_disorder: bool | None = None
    anticoagulants: bool | None = None
    diabetes: DiabetesControl | None = None
    uncontrolled_hypertension: bool | None = None
    serious_systemic_disease: bool | None = None
    height_cm: float | None = _ranged("height_cm")
    weight_kg: float | None = _ranged("weight_kg")
    osteoporosis: bool | None = None
    prior_surgery_at_index: bool | None = None
    prior_intradiscal_injection: bool | None = None
    prior_cell_therapy: bool | None = None
    substance_abuse: bool | None = None
    severe_depression: bool | None = None
    hiv_or_chronic_hepatitis: bool | None = None
    septic_arthritis: list[date] | None = Field(default=None, max_length=20)
    medications: list[str] | None = Field(
        default=None, max_length=100, description="RxNorm ingredient codes."
    )
    smoking: SmokingStatus | None = None
    activity: ActivityLevel | None = None

    def to_domain(self) -> Assessment:
        fields: dict[str, Any] = self.model_dump(exclude={"conservative_care", "imaging"})
        for name in ("steroid_injections", "intra_articular_injections", "septic_arthritis"):
            if fields[name] is not None:
                fields[name] = tuple(fields[name])
        if fields["medications"] is not None:
            fields["medications"] = tuple(code.strip() for code in fields["medications"])
        care = (
            tuple(ConservativeCare(**c.model_dump()) for c in self.conservative_care)
            if self.conservative_care is not None
            else None
        )
        imaging = Imaging(**self.imaging.model_dump()) if self.imaging is not None else None
        return Assessment(**fields, conservative_care=care, imaging=imaging)


class FindingOut(BaseModel):
    rule_id: str
    kind: RuleKind
    message: str
    source: str
    values: dict[str, Any]
    missing: list[str]


class DecisionOut(BaseModel):
    verdict: Verdict
    overridable: bool = Field(description="Only SOFT findings and unmet inclusions: yes.")
    ruleset_version: str
    missing: list[str] = Field(description="Fields some rule needs; fill them to decide.")
    findings: list[FindingOut]

    @classmethod
    def of(cls, decision: Decision) -> DecisionOut:
        return cls(
            verdict=decision.verdict,
            overridable=decision.overridable,
            ruleset_version=decision.ruleset_version,
            missing=list(decision.missing),
            findings=[
                FindingOut(
                    rule_id=f.rule_id,
                    kind=f.kind,
                    message=f.message,
                    source=f.source,
                    values=dict(f.values),
                    missing=list(f.missing),
                )
                for f in decision.findings
            ],
        )


class AssessmentOut(BaseModel):
    id: UUID
    episode_id: UUID
    version: int
    recorded_at: datetime
    recorded_by: str
    assessment: dict[str, Any]

    @classmethod
    def of(cls, recorded: RecordedAssessment) -> AssessmentOut:
        return cls(
            id=recorded.id,
            episode_id=recorded.episode_id,
            version=recorded.version,
            recorded_at=recorded.recorded_at,
            recorded_by=recorded.recorded_by,
            assessment=TypeAdapter(Assessment).dump_python(recorded.assessment, mode="json"),
        )


class EvaluationOut(BaseModel):
    evaluation_id: UUID
    assessment_version: int
    decision: DecisionOut


class EligibilityDecisionIn(Strict):
    version: int = Field(ge=1, description="The episode's version, as read.")
    decision: str = Field(
        pattern="^(accept|override|decline)$",
        description="accept the verdict; override SOFT findings (reason and password); "
        "decline: not a candidate in the physician's judgement (reason).",
    )
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = (
        Field(default=None, description="Required to override.")
    )
    password: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Re-entered to override: the e-signature (21 CFR 11.200)."
    )


class EligibilityDecisionOut(BaseModel):
    decision_id: UUID
    kind: DecisionKind
    computed: Verdict
    final: Verdict | None
    assessment_version: int
    ruleset_version: str
    episode: dict[str, Any]
