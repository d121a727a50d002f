"""The public pre-screen: "Could stem-cell therapy be an option for me?"

Anyone may answer the questions a person can answer about themselves; the clinic's ruleset
reads them and each finding is explained in plain words. Nothing is stored, nothing is asked
that identifies the person, and the page never says "you qualify": at best the therapy is
worth discussing with a qualified physician, at worst there is a reason one would likely not
be treated. Only a clinic can assess the rest (imaging, examination), and the page says so.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from regenpath.domain.assessment import (
    Assessment,
    CareKind,
    CareResult,
    ConservativeCare,
    DiabetesControl,
    SmokingStatus,
    TargetRegion,
)
from regenpath.domain.eligibility import Decision, Finding, RuleKind
from regenpath.domain.errors import InvalidValue
from regenpath.domain.patients import AdministrativeSex
from regenpath.entrypoints.deps import AppDep, public
from regenpath.entrypoints.web.expectations import patients_like
from regenpath.entrypoints.web.forms import FormReader, Posted, status_of, typed
from regenpath.entrypoints.web.rendering import templates
from regenpath.services import evaluation
from regenpath.services.outcomes import Expectation

router = APIRouter(include_in_schema=False)

Answer = Literal["yes", "no", "unsure"]
Cancer = Literal["never", "over_5_years", "within_5_years", "now", "unsure"]
DAYS_PER_MONTH = 30.44


class PreScreenIn(BaseModel):
    """What a person can say about themselves; "unsure" and blanks stay unknown."""

    region: TargetRegion
    age_years: int = Field(ge=0, le=130)
    sex: AdministrativeSex | None = None
    pain_nrs: int = Field(ge=0, le=10)
    leg_pain_nrs: int | None = Field(default=None, ge=0, le=10)
    pain_months: float = Field(ge=0, le=600)
    physio_months: float | None = Field(default=None, ge=0, le=600)
    physio_result: CareResult | None = None
    medication_months: float | None = Field(default=None, ge=0, le=600)
    medication_result: CareResult | None = None
    infection: Answer = "unsure"
    cancer: Cancer = "unsure"
    pregnant_or_breastfeeding: Answer = "unsure"
    immunosuppressants: Answer = "unsure"
    steroid_injection_3_months: Answer = "unsure"
    blood_thinners: Answer = "unsure"
    bleeding_disorder: Answer = "unsure"
    severe_anaemia: Answer = "unsure"
    diabetes: DiabetesControl | None = None
    prior_cell_therapy: Answer = "unsure"
    height_cm: float | None = Field(default=None, ge=50, le=250)
    weight_kg: float | None = Field(default=None, ge=20, le=400)
    smoking: SmokingStatus | None = None

    def to_assessment(self, today: date) -> Assessment:
        spine = self.region is TargetRegion.SPINE
        recent = today - timedelta(days=30)
        return Assessment(
            region=self.region,
            age_years=self.age_years,
            sex=self.sex,
            symptom_onset=today - timedelta(days=round(self.pain_months * DAYS_PER_MONTH)),
            back_pain_nrs=self.pain_nrs if spine else None,
            leg_pain_nrs=self.leg_pain_nrs if spine else None,
            pain_nrs=None if spine else self.pain_nrs,
            conservative_care=self._care(),
            active_infection=_flag(self.infection),
            active_malignancy=(None if self.cancer == "unsure" else self.cancer == "now"),
            cancer_treatment_ended_on={
                "over_5_years": today - timedelta(days=6 * 366),
                "within_5_years": today - timedelta(days=366),
            }.get(self.cancer),
            pregnant_or_breastfeeding=_flag(self.pregnant_or_breastfeeding),
            immunosuppressants=_flag(self.immunosuppressants),
            steroid_injections=_dates(self.steroid_injection_3_months, recent),
            intra_articular_injections=(
                None if spine else _dates(self.steroid_injection_3_months, recent)
            ),
            anticoagulants=_flag(self.blood_thinners),
            bleeding_disorder=_flag(self.bleeding_disorder),
            severe_anaemia=_flag(self.severe_anaemia),
            diabetes=self.diabetes,
            prior_cell_therapy=_flag(self.prior_cell_therapy),
            height_cm=self.height_cm,
            weight_kg=self.weight_kg,
            smoking=self.smoking,
        )

    def _care(self) -> tuple[ConservativeCare, ...] | None:
        tried = [
            ConservativeCare(kind, months, result or CareResult.NO_RELIEF)
            for kind, months, result in (
                (CareKind.PHYSIOTHERAPY, self.physio_months, self.physio_result),
                (CareKind.MEDICATION, self.medication_months, self.medication_result),
            )
            if months is not None
        ]
        return tuple(tried) if tried else None


def _flag(answer: Answer) -> bool | None:
    return None if answer == "unsure" else answer == "yes"


def _dates(answer: Answer, when: date) -> tuple[date, ...] | None:
    return None if answer == "unsure" else (when,) if answer == "yes" else ()


# What only a clinic can find out, in a patient's words, for the fields the rules still need.
PAIN_SOURCE = "an examination (sometimes a test injection) to find where the pain comes from"
CLINIC_ONLY = {
    "odi": "a questionnaire on how the pain limits daily life",
    "imaging": "an MRI or X-ray read by a specialist",
    "facet_ruled_out": PAIN_SOURCE,
    "si_joint_ruled_out": PAIN_SOURCE,
    "spondylolisthesis_grade": "imaging of the spine's alignment",
    "medications": "a review of all your medicines",
    "severe_anaemia": "a blood test",
}
OTHER_QUESTIONS = "a few more health questions in the clinic"


def _clinic_only(decision: Decision) -> list[str]:
    needed: list[str] = []
    for name in decision.missing:
        phrase = CLINIC_ONLY.get(name.split(".")[0], OTHER_QUESTIONS)
        if phrase not in needed:
            needed.append(phrase)
    return needed


def _grouped(decision: Decision) -> dict[str, list[Finding]]:
    decided = [f for f in decision.findings if not f.lacks_data]
    return {
        "stop": [f for f in decided if f.kind is RuleKind.HARD],
        "weigh": [f for f in decided if f.kind in (RuleKind.SOFT, RuleKind.INCLUSION)],
        "know": [f for f in decided if f.kind in (RuleKind.TASK, RuleKind.INFO)],
    }


@router.get("/pre-screen", response_class=HTMLResponse, dependencies=[Depends(public)])
def prescreen_form(request: Request) -> Response:
    return _page(request)


def _page(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    form: FormReader | None = None,
    result: dict[str, Any] | None = None,
    expect: Expectation | None = None,
) -> Response:
    return templates.TemplateResponse(
        request,
        "prescreen.html",
        {
            "values": values or {},
            "errors": form.errors if form is not None else {},
            "result": result,
            "expect": expect,
            "regions": [
                ("spine", "My lower back"),
                ("knee", "My knee"),
                ("other_joint", "Another joint (hip, shoulder, ankle ...)"),
            ],
        },
        status_code=status_of(form),
    )


@router.post("/pre-screen", response_class=HTMLResponse, dependencies=[Depends(public)])
def prescreen(request: Request, app: AppDep, posted: Posted) -> Response:
    """Nothing is stored or audited: there is no one to audit, and nothing to keep."""
    form = FormReader()
    answers = form.validate(PreScreenIn, posted)
    if answers is None:
        return _page(request, values=typed(posted), form=form)
    try:
        decision = evaluation.evaluate(
            app.ruleset, app.clock, answers.to_assessment(app.clock.now().date())
        )
    except InvalidValue as error:
        form.refused(error)
        return _page(request, values=typed(posted), form=form)
    groups = _grouped(decision)
    result = {
        "worth_discussing": not groups["stop"],
        "clinic_only": _clinic_only(decision),
        **groups,
    }
    expect = patients_like(app, [{"target": answers.region.value}], answers.age_years)
    return _page(request, values=typed(posted), result=result, expect=expect)
