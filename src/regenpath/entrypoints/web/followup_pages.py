"""The staff's follow-up pages: the worklist of open time points (due, late, calls and
letters to make) and an episode's follow-up with its score charts against the MCID band."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from regenpath.domain.access import Action, Resource
from regenpath.entrypoints.deps import AppDep, signed_in_staff
from regenpath.entrypoints.web.access import ReadFollowUp, SendPortalLinks
from regenpath.entrypoints.web.followup_charts import score_charts
from regenpath.entrypoints.web.rendering import clinic_zones, templates
from regenpath.services import clinics, followup, patients, portal

router = APIRouter(include_in_schema=False)


@router.get("/follow-up", response_class=HTMLResponse)
def worklist(
    request: Request, uow: ReadFollowUp, app: AppDep, clinic_id: UUID | None = None
) -> Response:
    """Who to chase today: the open check-ins, late ones first, and the calls and letters
    the reminder ladder has reached."""
    work = followup.follow_up_worklist(uow, app.clock, clinic_id)
    return templates.TemplateResponse(
        request,
        "followup_worklist.html",
        {
            "work": work,
            "clinic_id": clinic_id,
            "clinics": clinics.list_clinics(uow),
            "zones": clinic_zones(uow),
        },
    )


@router.get("/episodes/{episode_id}/follow-up", response_class=HTMLResponse)
def episode_follow_up(
    request: Request,
    episode_id: UUID,
    uow: ReadFollowUp,
    app: AppDep,
    link: str | None = None,
) -> Response:
    view = followup.read_follow_up(uow, app.clock, app.follow_up, episode_id)
    patient = patients.get_patient(uow, app.clock, view.episode.patient_id)
    staff = signed_in_staff(request)
    return templates.TemplateResponse(
        request,
        "followup.html",
        {
            "view": view,
            "patient": patient,
            "charts": score_charts(view),
            "score_titles": {
                f"{i.code.value}:{name}": i.score_title(name)
                for i in view.instruments
                for name in i.score_names
            },
            "may_send_link": view.episode.clinic_id
            in staff.clinics_permitting(Action.CREATE, Resource.PORTAL_LINK),
            "link_sent": link == "sent",
        },
    )


@router.post("/patients/{patient_id}/portal-link")
def send_portal_link(
    patient_id: UUID,
    uow: SendPortalLinks,
    app: AppDep,
    episode_id: Annotated[UUID, Form()],
) -> RedirectResponse:
    """Email the patient their portal link (it leaves with the worker's next run)."""
    portal.send_portal_link(uow, app.clock, app.new_id, app.follow_up, patient_id)
    return RedirectResponse(f"/episodes/{episode_id}/follow-up?link=sent", status_code=303)
