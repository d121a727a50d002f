"""The physician's evaluation page: the assessment form with live findings, its versions, the
ruleset's verdict, and the decision (accept, or override SOFT findings under signature)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import TypeAdapter
from starlette.datastructures import FormData

from regenpath.domain.assessment import (
    ActivityLevel,
    Assessment,
    CareKind,
    CareResult,
    DiabetesControl,
    ImagingModality,
    SmokingStatus,
    TargetRegion,
    region_of,
)
from regenpath.domain.eligibility import Decision
from regenpath.domain.episodes import Episode
from regenpath.domain.pathway import Stage
from regenpath.domain.patients import AdministrativeSex, Patient
from regenpath.entrypoints.api.eligibility_schemas import AssessmentIn, EligibilityDecisionIn
from regenpath.entrypoints.deps import AppDep, signed_in_staff
from regenpath.entrypoints.web.access import CreateAssessments, MoveEpisodes, ReadAssessments
from regenpath.entrypoints.web.forms import (
    FormReader,
    Posted,
    status_of,
    submit,
    submit_form,
    typed,
)
from regenpath.entrypoints.web.rendering import templates
from regenpath.services import clinics, episodes, evaluation, patients
from regenpath.services.ports import UnitOfWork
from regenpath.services.signatures import Signer

router = APIRouter(include_in_schema=False)

NOTICES = {
    "saved": "Assessment saved as a new version; the verdict below is on it.",
    "decided": "Decision recorded.",
}
CARE_ROWS = 3
CARE_FIELDS = ("kind", "months", "result")
IMAGING_FIELDS = (
    "modality",
    "taken_on",
    "pfirrmann_grade",
    "modic_type",
    "disc_height_pct",
    "levels_affected",
    "kellgren_lawrence_grade",
    "spinal_infection",
)
# Answers that are lists: "none" is a known empty list, blank is "not asked".
DATE_LISTS = ("steroid_injections", "intra_articular_injections", "septic_arthritis")
YES_NO = [("", "not asked"), ("false", "no"), ("true", "yes")]
FLAGS = (
    ("facet_ruled_out", "Facet pain ruled out (medial-branch block)"),
    ("si_joint_ruled_out", "Sacroiliac joint pain ruled out"),
    ("active_infection", "Active infection (systemic or at a site)"),
    ("active_malignancy", "Active malignancy"),
    ("immunosuppressants", "Systemic immunosuppressants"),
    ("pregnant_or_breastfeeding", "Pregnant or breastfeeding"),
    ("severe_anaemia", "Severe anaemia"),
    ("bleeding_disorder", "Bleeding disorder"),
    ("anticoagulants", "Anticoagulants"),
    ("uncontrolled_hypertension", "Uncontrolled hypertension"),
    ("serious_systemic_disease", "Serious systemic disease"),
    ("osteoporosis", "Osteoporosis"),
    ("prior_surgery_at_index", "Prior surgery at the index level or joint"),
    ("prior_intradiscal_injection", "Prior intradiscal injection"),
    ("prior_cell_therapy", "Prior cell therapy"),
    ("substance_abuse", "Substance abuse"),
    ("severe_depression", "Severe depression"),
    ("hiv_or_chronic_hepatitis", "HIV or chronic hepatitis"),
)
_ASSESSMENT = TypeAdapter(Assessment)


def _assessment_in(form: FormReader, posted: FormData) -> AssessmentIn | None:
    """The form's answers, read by the API's schema (so page and API check them alike)."""
    care = [
        {name: str(posted.getlist(name)[row]) for name in CARE_FIELDS}
        for row in range(len(posted.getlist("months")))
        if row < len(posted.getlist("kind")) and str(posted.getlist("months")[row]).strip()
    ]
    imaging = {
        name: str(value)
        for name in IMAGING_FIELDS
        if (value := posted.get(f"imaging_{name}")) and str(value).strip()
    }
    lists: dict[str, Any] = {
        "conservative_care": care or None,
        "imaging": imaging if "modality" in imaging else None,
    }
    for name in (*DATE_LISTS, "medications"):
        text = str(posted.get(name, "")).strip()
        lists[name] = None if not text else [] if text.lower() == "none" else _items(text)
    ignore = (*CARE_FIELDS, *(f"imaging_{n}" for n in IMAGING_FIELDS), *lists)
    return form.validate(AssessmentIn, posted, local=(), lists=lists, ignore=ignore)


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.replace(";", ",").split(",") if item.strip()]


def _values_of(assessment: Assessment) -> dict[str, str]:
    """A saved assessment as the form shows it."""
    data = _ASSESSMENT.dump_python(assessment, mode="json")
    values: dict[str, str] = {}
    for name, value in data.items():
        if name == "imaging" and value:
            values |= {f"imaging_{k}": _text(v) for k, v in value.items()}
        elif name == "conservative_care" and value is not None:
            for row, care in enumerate(value, start=1):
                values |= {f"{k}_{row}": _text(v) for k, v in care.items()}
        elif name in (*DATE_LISTS, "medications") and value is not None:
            values[name] = ", ".join(value) or "none"
        else:
            values[name] = _text(value)
    return values


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _starting_values(episode: Episode, patient: Patient, app: AppDep) -> dict[str, str]:
    """What the chart already says: age, sex, condition, and the target's region."""
    return {
        "region": region_of(episode.target_site).value,
        "condition_code": episode.condition_code,
        "age_years": str(patient.age_on(app.clock.now().date())),
        "sex": patient.sex.value,
    }


@router.get("/episodes/{episode_id}/evaluation", response_class=HTMLResponse)
def evaluation_page(
    request: Request, episode_id: UUID, uow: ReadAssessments, app: AppDep, done: str | None = None
) -> Response:
    return _page(request, uow, app, episode_id, notice=NOTICES.get(done or ""))


def _page(
    request: Request,
    uow: UnitOfWork,
    app: AppDep,
    episode_id: UUID,
    *,
    failed: str | None = None,
    form: FormReader | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    episode = episodes.get_episode(uow, app.clock, episode_id)
    patient = patients.get_patient(uow, app.clock, episode.patient_id)
    current = evaluation.read_evaluation(uow, app.clock, app.ruleset, episode_id)
    if values is None:
        values = (
            _values_of(current.assessment.assessment)
            if current is not None
            else _starting_values(episode, patient, app)
        )
    return templates.TemplateResponse(
        request,
        "evaluation.html",
        {
            "e": episode,
            "patient": patient,
            "zone": clinics.get_clinic(uow, episode.clinic_id).time_zone,
            "current": current,
            "decision": current.decision if current is not None else None,
            "open": episode.stage in evaluation.OPEN_FOR_ASSESSMENT,
            "deciding": episode.stage is Stage.IN_EVALUATION and current is not None,
            "values": values,
            "errors": form.errors if form is not None else {},
            "failed": failed,
            "notice": notice,
            "regions": list(TargetRegion),
            "sexes": list(AdministrativeSex),
            "care_kinds": list(CareKind),
            "care_results": list(CareResult),
            "care_rows": range(1, CARE_ROWS + 1),
            "modalities": list(ImagingModality),
            "diabetes": list(DiabetesControl),
            "smoking": list(SmokingStatus),
            "activity": list(ActivityLevel),
            "yes_no": YES_NO,
            "flags": FLAGS,
            "ruleset": app.ruleset,
        },
        status_code=status_of(form),
    )


@router.post("/episodes/{episode_id}/evaluation/preview", response_class=HTMLResponse)
def preview(
    request: Request, episode_id: UUID, uow: CreateAssessments, app: AppDep, posted: Posted
) -> Response:
    """The findings the answers so far would give; nothing is stored. HTMX asks on every
    change; without JavaScript the "Check" button shows the whole page."""
    form = FormReader()
    body = _assessment_in(form, posted)
    decision: Decision | None = None
    if body is not None:
        try:
            decision = evaluation.evaluate(app.ruleset, app.clock, body.to_domain())
        except ValueError as error:
            form.refused(error)
    if request.headers.get("HX-Request") != "true":
        return _page(
            request, uow, app, episode_id, failed="assessment", form=form, values=typed(posted)
        )
    return templates.TemplateResponse(
        request,
        "partials/findings.html",
        {"decision": decision, "errors": form.errors, "live": True},
    )


@router.post("/episodes/{episode_id}/evaluation/assessments", response_class=HTMLResponse)
def save_assessment(
    request: Request, episode_id: UUID, uow: CreateAssessments, app: AppDep, posted: Posted
) -> Response:
    form = FormReader()
    body = _assessment_in(form, posted)

    def act() -> str:
        assert body is not None, "a form that read cleanly has its body"
        staff = signed_in_staff(request)
        evaluation.record_assessment(
            uow, app.clock, app.new_id, staff, episode_id, body.to_domain()
        )
        return "saved"

    return submit(
        form,
        act,
        lambda done: f"/episodes/{episode_id}/evaluation?done={done}#verdict",
        lambda refused: _page(
            request, uow, app, episode_id, failed="assessment", form=refused, values=typed(posted)
        ),
    )


@router.post("/episodes/{episode_id}/evaluation/decision", response_class=HTMLResponse)
def decide(
    request: Request, episode_id: UUID, uow: MoveEpisodes, app: AppDep, posted: Posted
) -> Response:
    def act(body: EligibilityDecisionIn) -> str:
        signer = Signer(
            signed_in_staff(request),
            body.password or "",
            app.hasher,
            app.lockout,
            statement=body.reason,
        )
        evaluation.decide_eligibility(
            uow,
            app.clock,
            app.new_id,
            app.ruleset,
            signer,
            evaluation.DecideEligibility(
                episode_id=episode_id,
                expected_version=body.version,
                override=body.decision == "override",
                reason=body.reason,
                decline=body.decision == "decline",
            ),
        )
        return "decided"

    return submit_form(
        FormReader(),
        EligibilityDecisionIn,
        posted,
        act,
        lambda done: f"/episodes/{episode_id}/evaluation?done={done}#verdict",
        lambda refused: _page(
            request, uow, app, episode_id, failed="decision", form=refused, values=None
        ),
    )
