"""The patient portal, made for a phone: the recovery plan, the coming check-ins, the due
questionnaires one question per screen, and the patient's own scores as charts.

The patient arrives by the personal link the clinic emailed. Opening the link shows a button
and spends nothing: mail scanners open links too, and must not use up a single-use link.
The button spends it for a session with its own cookie (never a staff session). Every page
declares :class:`PortalAccess`, whose unit of work sees this one patient and nothing else,
and every read and answer is audited.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from regenpath.domain.access import Action, PatientSession, Resource
from regenpath.domain.errors import InvalidValue
from regenpath.domain.followup import VisitStatus
from regenpath.domain.instruments import Instrument, InstrumentCode
from regenpath.domain.safety import EMERGENCY_SIGNS, MAX_REPORT_LENGTH, ConcernLevel
from regenpath.entrypoints.deps import (
    PORTAL_COOKIE,
    AppDep,
    PortalAccess,
    public,
    signed_in_patient,
)
from regenpath.entrypoints.web.followup_charts import score_charts
from regenpath.entrypoints.web.rendering import page_error, templates
from regenpath.services import clinics, followup, portal, safety
from regenpath.services.errors import NotAuthenticated
from regenpath.services.ports import UnitOfWork
from regenpath.services.safety import ReportProblem

router = APIRouter(include_in_schema=False)

ReadOwnFollowUp = Annotated[UnitOfWork, Depends(PortalAccess(Action.READ, Resource.FOLLOW_UP))]
ReportOwnProblem = Annotated[
    UnitOfWork, Depends(PortalAccess(Action.CREATE, Resource.PATIENT_REPORT))
]
AnswerOwnFollowUp = Annotated[UnitOfWork, Depends(PortalAccess(Action.UPDATE, Resource.FOLLOW_UP))]
Patient = Annotated[PatientSession, Depends(signed_in_patient)]
MIN_TOKEN_LENGTH = 16  # the links carry 43 characters (secrets.token_urlsafe(32))
OPEN = (VisitStatus.DUE, VisitStatus.LATE)
CODES = frozenset(code.value for code in InstrumentCode)


@router.get("/portal/enter", response_class=HTMLResponse, dependencies=[Depends(public)])
def enter(request: Request, token: Annotated[str, Query(max_length=200)] = "") -> Response:
    """The emailed link lands here; only the button below spends it. A link cut short by a
    mail program gets a page that says so, not a form error."""
    if len(token) < MIN_TOKEN_LENGTH:
        return page_error(
            request, 400, "This link is incomplete. Copy the whole link from the email, or ask"
            " the clinic to send a new one."
        )  # fmt: skip
    return templates.TemplateResponse(request, "portal/enter.html", {"token": token})


@router.post("/portal/enter", dependencies=[Depends(public)])
def redeem(request: Request, app: AppDep, token: Annotated[str, Form(max_length=200)]) -> Response:
    try:
        signed_in = portal.redeem_link(
            app.unit_of_work(), app.clock, app.new_id, app.follow_up, token, app.portal_session
        )
    except NotAuthenticated as error:
        return page_error(request, 401, f"Sorry, {error.message}. The clinic can send one.")
    response = RedirectResponse("/portal", status_code=303)
    response.set_cookie(
        PORTAL_COOKIE,
        signed_in.cookie,
        max_age=int(app.portal_session.total_seconds()),
        path="/portal",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/portal", response_class=HTMLResponse)
def home(
    request: Request,
    uow: ReadOwnFollowUp,
    app: AppDep,
    session: Patient,
    sent: Annotated[str | None, Query(max_length=40)] = None,
    reported: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    """Recovery plan, what is due now, what comes next, and the patient's own charts."""
    seen = portal.portal_home(uow, app.clock, app.follow_up, session.patient_id)
    treatments = [
        {
            "view": view,
            "due": [v for v in view.visits if v.status in OPEN and not v.visit.cancelled],
            "coming": [
                v for v in view.visits if v.status is VisitStatus.UPCOMING and not v.visit.cancelled
            ][:3],
            "phase": view.plan.phase_on(view.today) if view.plan else None,
            "charts": score_charts(view),
        }
        for view in seen.follow_ups
    ]
    return templates.TemplateResponse(
        request,
        "portal/home.html",
        {
            "home": seen,
            "treatments": treatments,
            "sent": sent,
            "reported": reported is not None,
            "portal": session,
        },
    )


@router.post("/portal/episodes/{episode_id}/recovery-plan/acknowledgement")
def acknowledge(
    episode_id: UUID, uow: AnswerOwnFollowUp, app: AppDep, session: Patient
) -> RedirectResponse:
    followup.acknowledge_recovery_plan(
        uow, app.clock, app.new_id, episode_id, by=f"patient:{session.patient_id}"
    )
    return RedirectResponse("/portal#plan", status_code=303)


def _next_item(instrument: Instrument, answers: dict[str, int], after: str | None) -> str | None:
    """The next question to ask: after ``after`` in order, else the first not yet answered."""
    ids = [item.id for item in instrument.items]
    if after in ids:
        following = ids[ids.index(after) + 1 :]
        return following[0] if following else None
    # An optional question left blank ("if applicable") is not asked again on resuming.
    return next((i.id for i in instrument.items if i.id not in answers and not i.optional), None)


@router.get("/portal/visits/{visit_id}/{code}", response_class=HTMLResponse)
def question(
    request: Request,
    visit_id: UUID,
    code: str,
    uow: ReadOwnFollowUp,
    app: AppDep,
    session: Patient,
    item: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """One question per screen; with no ``item``, the first one not answered yet (resuming
    where the patient stopped), and once all are answered, the screen that sends them."""
    step = followup.open_questionnaire(uow, app.clock, app.follow_up, visit_id, code)
    if step.completed:
        return RedirectResponse(f"/portal?sent={code}", status_code=303)
    instrument = step.instrument
    asked = item if item is not None else _next_item(instrument, step.answers, None)
    context: dict[str, Any] = {
        "step": step,
        "instrument": instrument,
        "portal": session,
        "clinic": clinics.get_clinic(uow, session.clinic_id),  # its phone, on every page
    }
    if asked is None:
        return templates.TemplateResponse(request, "portal/review.html", context)
    try:
        shown = instrument.item(asked)
    except InvalidValue:
        return page_error(request, 404, "That question is not part of this questionnaire.")
    ids = [i.id for i in instrument.items]
    position = ids.index(shown.id)
    context |= {
        "item": shown,
        "number": position + 1,
        "previous": ids[position - 1] if position > 0 else None,
        "chosen": step.answers.get(shown.id),
    }
    return templates.TemplateResponse(request, "portal/question.html", context)


@router.post("/portal/visits/{visit_id}/{code}")
def answer(
    visit_id: UUID,
    code: str,
    uow: AnswerOwnFollowUp,
    app: AppDep,
    session: Patient,
    item: Annotated[str, Form(max_length=20)],
    answer: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    """Saves one answer as it is given, so a patient who stops can resume; a skipped
    optional question is stored as no answer."""
    instrument = app.follow_up.instruments[InstrumentCode(code)] if code in CODES else None
    if instrument is None:
        raise InvalidValue("instrument", f"{code!r} is not a questionnaire")
    if answer is None and not instrument.item(item).optional:
        raise InvalidValue(item, "choose one of the answers")
    answers = {item: answer} if answer is not None else {}
    step = followup.save_answers(
        uow,
        app.clock,
        app.new_id,
        app.follow_up,
        visit_id,
        code,
        answers,
        f"patient:{session.patient_id}",
        complete=False,
    )
    following = _next_item(instrument, step.answers, item)
    where = f"?item={following}" if following is not None else ""
    return RedirectResponse(f"/portal/visits/{visit_id}/{code}{where}", status_code=303)


@router.post("/portal/visits/{visit_id}/{code}/completion")
def complete(
    visit_id: UUID,
    code: str,
    uow: AnswerOwnFollowUp,
    app: AppDep,
    session: Patient,
) -> RedirectResponse:
    """Sends the questionnaire: it is scored, and the time point completes once every
    questionnaire it asks is in (which stops its reminders)."""
    followup.save_answers(
        uow,
        app.clock,
        app.new_id,
        app.follow_up,
        visit_id,
        code,
        {},
        f"patient:{session.patient_id}",
        complete=True,
    )
    return RedirectResponse(f"/portal?sent={code}", status_code=303)


def _problem_page(
    request: Request,
    uow: UnitOfWork,
    app: AppDep,
    session: PatientSession,
    *,
    values: dict[str, str] | None = None,
    error: InvalidValue | None = None,
) -> Response:
    seen = portal.portal_home(uow, app.clock, app.follow_up, session.patient_id)
    return templates.TemplateResponse(
        request,
        "portal/problem.html",
        {
            "home": seen,
            "portal": session,
            "signs": EMERGENCY_SIGNS,
            "concerns": list(ConcernLevel),
            "values": values or {},
            "error": error,
        },
        status_code=422 if error is not None else 200,
    )


@router.get("/portal/problem", response_class=HTMLResponse)
def problem_form(
    request: Request, uow: ReportOwnProblem, app: AppDep, session: Patient
) -> Response:
    """ "Something worries me": emergencies first, then the clinic's number, then a message
    to the care team, who triage it."""
    return _problem_page(request, uow, app, session)


@router.post("/portal/problem", response_class=HTMLResponse)
def report_problem(
    request: Request,
    uow: ReportOwnProblem,
    app: AppDep,
    session: Patient,
    episode_id: Annotated[UUID, Form()],
    description: Annotated[str, Form(max_length=MAX_REPORT_LENGTH)] = "",
    concern: Annotated[ConcernLevel, Form()] = ConcernLevel.A_LITTLE,
    started_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    values = {"description": description, "concern": concern.value, "started_on": started_on}
    try:
        started = date.fromisoformat(started_on) if started_on else None
    except ValueError:
        error = InvalidValue("started_on", "give the date as a date")
        return _problem_page(request, uow, app, session, values=values, error=error)
    command = ReportProblem(episode_id, description, concern, started)
    try:
        safety.report_problem(uow, app.clock, app.new_id, session.patient_id, command)
    except InvalidValue as error:
        return _problem_page(request, uow, app, session, values=values, error=error)
    return RedirectResponse("/portal?reported=1", status_code=303)


@router.post("/portal/sign-out")
def sign_out(uow: ReadOwnFollowUp, app: AppDep, session: Patient) -> RedirectResponse:
    portal.end_patient_session(uow, app.clock, session)
    response = RedirectResponse("/portal/signed-out", status_code=303)
    response.delete_cookie(PORTAL_COOKIE, path="/portal")
    return response


@router.get("/portal/signed-out", response_class=HTMLResponse, dependencies=[Depends(public)])
def signed_out(request: Request) -> Response:
    return templates.TemplateResponse(request, "portal/signed_out.html", {})
