"""Outcome instruments, the follow-up schedule and its questionnaires, the recovery plan, and
portal links (issue 8)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request, status

from regenpath.domain.instruments import InstrumentCode
from regenpath.entrypoints.api.access import (
    AnswerFollowUp,
    ReadFollowUp,
    SendPortalLinks,
)
from regenpath.entrypoints.api.followup_schemas import (
    AnswersIn,
    FollowUpOut,
    InstrumentOut,
    PortalLinkOut,
    ResponseIn,
    ResponseOut,
    ScoreOut,
)
from regenpath.entrypoints.deps import AppDep, IdsDep, public, signed_in_staff
from regenpath.services import followup, portal

router = APIRouter(tags=["follow-up"])


@router.get("/instruments", dependencies=[Depends(public)])
def list_instruments(app: AppDep) -> list[InstrumentOut]:
    """The instruments with their items, answer boxes, scoring range, MCID and licence note;
    the ODI's items have no text unless the clinic loaded its licensed text."""
    return [InstrumentOut.of(i) for i in app.instruments.instruments.values()]


@router.post("/instruments/{code}/score", dependencies=[Depends(public)])
def score_answers(code: InstrumentCode, body: AnswersIn, app: AppDep) -> ScoreOut:
    """Score an answer set by the instrument's published rules, missing data included; nothing
    is stored. A box an item does not have is 422 naming the item."""
    return ScoreOut.of(followup.score_answers(app.instruments, code, body.answers))


@router.get("/episodes/{episode_id}/follow-up")
def read_follow_up(episode_id: UUID, uow: ReadFollowUp, app: AppDep) -> FollowUpOut:
    """The schedule with each time point's status (upcoming, due, late, completed, missed),
    the answers and scores, the baseline from the evaluation, and the recovery plan."""
    return FollowUpOut.of(followup.read_follow_up(uow, app.clock, app.follow_up, episode_id))


@router.post("/follow-up/visits/{visit_id}/responses", status_code=status.HTTP_201_CREATED)
def record_response(
    visit_id: UUID,
    body: ResponseIn,
    uow: AnswerFollowUp,
    request: Request,
    app: AppDep,
    ids: IdsDep,
) -> ResponseOut:
    """A completed questionnaire typed in by staff (answers given by phone). The time point
    completes when every questionnaire it asks is in, which stops its reminders. An answer out
    of range is 422 naming the item, and nothing is stored."""
    response = followup.save_answers(
        uow,
        app.clock,
        ids,
        app.follow_up,
        visit_id,
        body.instrument,
        body.answers,
        signed_in_staff(request).username,
        complete=True,
    )
    return ResponseOut.of(response)


@router.post("/episodes/{episode_id}/recovery-plan/acknowledgement")
def acknowledge_recovery_plan(
    episode_id: UUID, uow: AnswerFollowUp, request: Request, app: AppDep, ids: IdsDep
) -> dict[str, str]:
    """The patient went through the recovery plan with the nurse (RCV-1)."""
    at = followup.acknowledge_recovery_plan(
        uow, app.clock, ids, episode_id, signed_in_staff(request).username
    )
    return {"acknowledged_at": at.isoformat()}


@router.post("/patients/{patient_id}/portal-link", status_code=status.HTTP_202_ACCEPTED)
def send_portal_link(
    patient_id: UUID, uow: SendPortalLinks, app: AppDep, ids: IdsDep
) -> PortalLinkOut:
    """Email the patient a personal portal link (single use, expiring); it leaves with the
    worker's next outbox run. A patient without an email address is 422."""
    message = portal.send_portal_link(uow, app.clock, ids, app.follow_up, patient_id)
    return PortalLinkOut(
        message_id=message.id, recipient=message.recipient, status=message.status.value
    )
