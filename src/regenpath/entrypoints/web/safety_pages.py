"""The safety pages: an episode's adverse events with the form to record one, the quality
officer's dashboard of reports due, and the Form 3500A fields to transcribe."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from regenpath.domain.safety import GRADES, AeOutcome, Relatedness, Seriousness, TriageOutcome
from regenpath.domain.tasks import DeviationKind
from regenpath.entrypoints.api.safety_schemas import AdverseEventIn, DeviationIn, SubmissionIn
from regenpath.entrypoints.deps import AppDep, signed_in_staff
from regenpath.entrypoints.web.access import (
    ReadAdverseEvents,
    ReadPatientReports,
    ReadReports,
    RecordAdverseEvents,
    RecordDeviations,
    SubmitReports,
    TriagePatientReports,
)
from regenpath.entrypoints.web.forms import FormReader, Posted, status_of, submit_form, typed
from regenpath.entrypoints.web.rendering import clinic_zones, templates
from regenpath.services import clinics, episodes, patients, safety
from regenpath.services.ports import UnitOfWork

router = APIRouter(include_in_schema=False)

NOTICES = {
    "deviation": "Deviation recorded.",
    "dismissed": "The patient's report is answered as not an adverse event.",
    "recorded": "Adverse event recorded.",
    "submitted": "Submission recorded; the report is closed.",
}


def _events_page(
    request: Request,
    uow: UnitOfWork,
    app: AppDep,
    episode_id: UUID,
    *,
    form: FormReader | None = None,
    values: dict[str, str | list[str]] | None = None,
    notice: str | None = None,
) -> Response:
    episode = episodes.get_episode(uow, app.clock, episode_id)
    patient = patients.get_patient(uow, app.clock, episode.patient_id)
    reported = safety.patient_reports(uow, app.clock, TriageOutcome.AWAITING, episode_id)
    return templates.TemplateResponse(
        request,
        "adverse_events.html",
        {
            "e": episode,
            "patient": patient,
            "reported": reported,
            "zone": clinics.get_clinic(uow, episode.clinic_id).time_zone,
            "events": safety.adverse_events(uow, app.clock, app.ae_catalogue, episode_id),
            "terms": [(t.code, t.label) for t in app.ae_catalogue.terms.values()],
            "grades": [(str(g), f"{g}: {text}") for g, text in GRADES.items()],
            "seriousness": list(Seriousness),
            "outcomes": list(AeOutcome),
            "relatedness": list(Relatedness),
            "values": values or {},
            "errors": form.errors if form is not None else {},
            "notice": notice,
        },
        status_code=status_of(form),
    )


@router.get("/episodes/{episode_id}/adverse-events", response_class=HTMLResponse)
def adverse_events_page(
    request: Request,
    episode_id: UUID,
    uow: ReadAdverseEvents,
    app: AppDep,
    done: str | None = None,
    from_report: UUID | None = None,
) -> Response:
    """The episode's adverse events and the form to record one; ``from_report`` fills the
    form from a patient's portal report, whose triage the record then closes."""
    values: dict[str, str | list[str]] = {}
    if from_report is not None:
        awaiting = safety.patient_reports(uow, app.clock, TriageOutcome.AWAITING, episode_id)
        report = next((r for r in awaiting if r.id == from_report), None)
        if report is not None:
            values = {
                "patient_report_id": str(report.id),
                "onset_on": (report.started_on or report.reported_at.date()).isoformat(),
                "description": report.description[:4000],
            }
    return _events_page(
        request, uow, app, episode_id, values=values, notice=NOTICES.get(done or "")
    )


@router.get("/patient-reports/{report_id}")
def patient_report(report_id: UUID, uow: ReadPatientReports, app: AppDep) -> RedirectResponse:
    """A triage task's link: the report, on its episode's adverse-event page."""
    report = safety.get_patient_report(uow, app.clock, report_id)
    return RedirectResponse(f"/episodes/{report.episode_id}/adverse-events#reported", 303)


@router.post("/patient-reports/{report_id}/dismissal")
def dismiss_patient_report(
    request: Request,
    report_id: UUID,
    uow: TriagePatientReports,
    app: AppDep,
    episode_id: Annotated[UUID, Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    """Answer a patient's report as not an adverse event, saying why."""
    safety.dismiss_patient_report(uow, app.clock, signed_in_staff(request), report_id, note)
    return RedirectResponse(
        f"/episodes/{episode_id}/adverse-events?done=dismissed", status_code=303
    )


@router.post("/episodes/{episode_id}/adverse-events", response_class=HTMLResponse)
def record_adverse_event(
    request: Request, episode_id: UUID, uow: RecordAdverseEvents, app: AppDep, posted: Posted
) -> Response:
    def act(body: AdverseEventIn) -> str:
        staff = signed_in_staff(request)
        command = body.command(episode_id)
        safety.record_adverse_event(
            uow, app.clock, app.new_id, app.ae_catalogue, staff, command, app.cusum
        )
        return "recorded"

    seriousness = [str(s) for s in posted.getlist("seriousness")]
    values: dict[str, str | list[str]] = {**typed(posted), "seriousness": seriousness}
    return submit_form(
        FormReader(),
        AdverseEventIn,
        posted,
        act,
        lambda done: f"/episodes/{episode_id}/adverse-events?done={done}",
        lambda refused: _events_page(request, uow, app, episode_id, form=refused, values=values),
        checkboxes=("unexpected",),
        lists={"seriousness": seriousness},
        ignore=("seriousness",),
    )


def _quality_page(
    request: Request,
    uow: UnitOfWork,
    app: AppDep,
    *,
    failed: str | None = None,
    form: FormReader | None = None,
    notice: str | None = None,
) -> Response:
    board = safety.reports_board(uow, app.clock)
    return templates.TemplateResponse(
        request,
        "quality.html",
        {
            "board": board,
            "clinic_choices": [(str(c.id), c.name) for c in clinics.list_clinics(uow)],
            "deviation_kinds": list(DeviationKind),
            "signals": safety.safety_signals(uow, app.ae_catalogue, app.cusum)[:15],
            "zones": clinic_zones(uow),
            "failed": failed,
            "errors": form.errors if form is not None else {},
            "notice": notice,
        },
        status_code=status_of(form),
    )


@router.get("/quality", response_class=HTMLResponse)
def quality(request: Request, uow: ReadReports, app: AppDep, done: str | None = None) -> Response:
    """Open reports by due date; an overdue one is marked (calendar days, RPT-1..3)."""
    return _quality_page(request, uow, app, notice=NOTICES.get(done or ""))


@router.post("/reports/{report_id}/submission", response_class=HTMLResponse)
def record_submission(
    request: Request, report_id: UUID, uow: SubmitReports, app: AppDep, posted: Posted
) -> Response:
    def act(body: SubmissionIn) -> str:
        staff = signed_in_staff(request)
        safety.record_submission(
            uow, app.clock, staff, report_id, body.submitted_on, body.reference
        )
        return "submitted"

    return submit_form(
        FormReader(),
        SubmissionIn,
        posted,
        act,
        lambda done: f"/quality?done={done}",
        lambda refused: _quality_page(request, uow, app, failed=str(report_id), form=refused),
    )


@router.post("/deviations", response_class=HTMLResponse)
def record_deviation(
    request: Request, uow: RecordDeviations, app: AppDep, posted: Posted
) -> Response:
    def act(body: DeviationIn) -> str:
        staff = signed_in_staff(request)
        safety.record_deviation(uow, app.clock, app.new_id, staff, body.command())
        return "deviation"

    return submit_form(
        FormReader(),
        DeviationIn,
        posted,
        act,
        lambda done: f"/quality?done={done}",
        lambda refused: _quality_page(request, uow, app, failed="deviation", form=refused),
        checkboxes=("distributed",),
    )


@router.get("/reports/{report_id}/3500a", response_class=HTMLResponse)
def form_3500a(request: Request, report_id: UUID, uow: ReadReports, app: AppDep) -> Response:
    fields = safety.form_3500a(uow, app.clock, app.ae_catalogue, report_id)
    return templates.TemplateResponse(request, "form_3500a.html", {"fields": fields})
