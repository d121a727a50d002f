"""The safety pages: an episode's adverse events with the form to record one, the quality
officer's dashboard of reports due, and the Form 3500A fields to transcribe."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from regenpath.domain.safety import GRADES, AeOutcome, Relatedness, Seriousness
from regenpath.domain.tasks import DeviationKind
from regenpath.entrypoints.api.safety_schemas import AdverseEventIn, DeviationIn, SubmissionIn
from regenpath.entrypoints.deps import AppDep, signed_in_staff
from regenpath.entrypoints.web.access import (
    ReadAdverseEvents,
    ReadReports,
    RecordAdverseEvents,
    RecordDeviations,
    SubmitReports,
)
from regenpath.entrypoints.web.forms import FormReader, Posted, status_of, submit_form, typed
from regenpath.entrypoints.web.rendering import clinic_zones, templates
from regenpath.services import clinics, episodes, patients, safety
from regenpath.services.ports import UnitOfWork

router = APIRouter(include_in_schema=False)

NOTICES = {
    "deviation": "Deviation recorded.",
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
    return templates.TemplateResponse(
        request,
        "adverse_events.html",
        {
            "e": episode,
            "patient": patient,
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
) -> Response:
    return _events_page(request, uow, app, episode_id, notice=NOTICES.get(done or ""))


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
