"""The physician's and the nurse's pages around the procedure: the harvest record and the
procedure room (bedside check, then the injection record)."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from regenpath.domain.episodes import Episode
from regenpath.domain.procedures import (
    AdiposeMethod,
    Anaesthesia,
    Guidance,
    HarvestSite,
    HarvestSource,
    Side,
    TimeOutItem,
)
from regenpath.domain.products import CellSource, ProductType, VerificationMethod
from regenpath.domain.timeout import approaches_for, sides_for, usual_side
from regenpath.entrypoints.api.product_schemas import HarvestIn, InjectionIn
from regenpath.entrypoints.api.schemas import BedsideCheckIn
from regenpath.entrypoints.deps import AppDep, signed_in_staff
from regenpath.entrypoints.web.access import (
    CheckAtBedside,
    ReadEpisodes,
    RecordHarvests,
    RecordInjections,
)
from regenpath.entrypoints.web.forms import (
    REFUSALS,
    FormReader,
    Posted,
    local_input,
    status_of,
    submit,
    submit_form,
    typed,
)
from regenpath.entrypoints.web.rendering import templates
from regenpath.services import clinics, episodes, lab, patients, products
from regenpath.services.ports import UnitOfWork

router = APIRouter(include_in_schema=False)


NOTICES = {
    "cleared": "Bedside check passed: patient and product match. You may inject.",
    "injected": "Injection recorded: the product is administered and the patient is in recovery.",
}
# Sites one injection form offers; a procedure rarely treats more levels at once.
SITE_ROWS = 3
SITE_FIELDS = ("target", "laterality", "volume_ml", "cell_dose_million")


def _zone(uow: UnitOfWork, episode: Episode) -> str:
    return clinics.get_clinic(uow, episode.clinic_id).time_zone


# --- Harvest ---------------------------------------------------------------------------------


@router.get("/episodes/{episode_id}/harvest", response_class=HTMLResponse)
def harvest_form(request: Request, episode_id: UUID, uow: RecordHarvests, app: AppDep) -> Response:
    return _harvest_page(request, uow, app, episode_id)


def _harvest_page(
    request: Request,
    uow: UnitOfWork,
    app: AppDep,
    episode_id: UUID,
    form: FormReader | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    episode = episodes.get_episode(uow, app.clock, episode_id)
    patient = patients.get_patient(uow, app.clock, episode.patient_id)
    zone = _zone(uow, episode)
    errors = form.errors if form is not None else {}
    return templates.TemplateResponse(
        request,
        "harvest.html",
        {
            "episode": episode,
            "patient": patient,
            "zone": zone,
            "now_input": local_input(app.clock.now(), zone),
            "product_types": [t for t in ProductType if t.source is CellSource.AUTOLOGOUS],
            "sources": list(HarvestSource),
            "sites": list(HarvestSite),
            "sides": list(Side),
            "methods": list(AdiposeMethod),
            "anaesthesias": list(Anaesthesia),
            "errors": errors,
            "values": values or {},
        },
        status_code=status_of(form),
    )


@router.post("/episodes/{episode_id}/harvest", response_class=HTMLResponse)
def record_harvest(
    request: Request, episode_id: UUID, uow: RecordHarvests, app: AppDep, posted: Posted
) -> Response:
    episode = episodes.get_episode(uow, app.clock, episode_id)
    form = FormReader(_zone(uow, episode))

    def act(body: HarvestIn) -> str:
        command = body.command(episode_id)
        staff = signed_in_staff(request)
        result = lab.record_harvest(uow, app.clock, app.new_id, app.lab, staff, command)
        return str(result.product.id)

    return submit_form(
        form,
        HarvestIn,
        posted,
        act,
        lambda product_id: f"/products/{product_id}?done=harvested",
        lambda refused: _harvest_page(request, uow, app, episode_id, refused, typed(posted)),
        local=("started_at", "ended_at"),
        checkboxes=("nsaids_stopped", "anticoagulants_reviewed"),
    )


# --- Procedure room --------------------------------------------------------------------------


@router.get("/episodes/{episode_id}/procedure", response_class=HTMLResponse)
def procedure_room(
    request: Request, episode_id: UUID, uow: ReadEpisodes, app: AppDep, done: str | None = None
) -> Response:
    return _procedure_page(request, uow, app, episode_id, notice=NOTICES.get(done or ""))


def _procedure_page(
    request: Request,
    uow: UnitOfWork,
    app: AppDep,
    episode_id: UUID,
    *,
    failed: str | None = None,
    form: FormReader | None = None,
    values: Mapping[str, str | list[str]] | None = None,
    stop: list[str] | None = None,
    notice: str | None = None,
) -> Response:
    room = products.procedure_room(uow, app.clock, episode_id)
    zone = _zone(uow, room.episode)
    errors = form.errors if form is not None else {}
    status = 409 if stop else status_of(form)
    return templates.TemplateResponse(
        request,
        "procedure.html",
        {
            "room": room,
            "e": room.episode,
            "patient": room.patient,
            "zone": zone,
            "now_input": local_input(app.clock.now(), zone),
            "methods": list(VerificationMethod),
            "guidances": list(Guidance),
            # Only what reaches this episode's target, on its side (SITE-1); the form's
            # defaults come from the consented plan, never from a generic default.
            "approaches": approaches_for(room.episode.target_site),
            "sides": sides_for(room.episode.laterality),
            "usual_side": usual_side(room.episode.laterality),
            "time_out_items": list(TimeOutItem),
            "plan": room.plan,
            "site_rows": range(SITE_ROWS),
            "failed": failed,
            "errors": errors,
            "values": values or {},
            "stop": stop,
            "notice": notice,
        },
        status_code=status,
    )


@router.post("/episodes/{episode_id}/bedside-verifications", response_class=HTMLResponse)
def bedside_check(
    request: Request, episode_id: UUID, uow: CheckAtBedside, app: AppDep, posted: Posted
) -> Response:
    """BED-1: a mismatch is a hard stop, shown in red and recorded as a deviation."""
    form = FormReader()
    body = form.validate(BedsideCheckIn, posted)
    if body is not None:
        try:
            check = products.BedsideCheck(episode_id=episode_id, **body.model_dump())
            outcome = products.verify_at_bedside(
                uow, app.clock, app.new_id, signed_in_staff(request), check
            )
        except REFUSALS as error:
            form.refused(error)
        else:
            if not outcome.mismatches:
                return RedirectResponse(f"/episodes/{episode_id}/procedure?done=cleared", 303)
            return _procedure_page(
                request, uow, app, episode_id, failed="bedside", stop=outcome.mismatches
            )
    return _procedure_page(
        request, uow, app, episode_id, failed="bedside", form=form, values=typed(posted)
    )


def _sites(posted: FormData) -> list[dict[str, str]]:
    """The sites table's rows up to the last one with a target; blank cells left out, so the
    schema names what a row is missing."""
    columns = {name: posted.getlist(name) for name in SITE_FIELDS}
    rows = [
        {name: str(values[i]).strip() for name, values in columns.items() if i < len(values)}
        for i in range(max(map(len, columns.values()), default=0))
    ]
    while rows and not rows[-1].get("target"):
        rows.pop()
    return [{name: value for name, value in row.items() if value} for row in rows]


@router.post("/episodes/{episode_id}/injection", response_class=HTMLResponse)
def record_injection(
    request: Request, episode_id: UUID, uow: RecordInjections, app: AppDep, posted: Posted
) -> Response:
    episode = episodes.get_episode(uow, app.clock, episode_id)
    form = FormReader(_zone(uow, episode))
    references = str(posted.get("image_references", "")).replace(",", "\n").splitlines()
    confirmed = [str(item) for item in posted.getlist("time_out")]
    body = form.validate(
        InjectionIn,
        posted,
        local=("started_at", "ended_at"),
        lists={
            "sites": _sites(posted),
            "image_references": [r.strip() for r in references if r.strip()],
            "time_out": confirmed,
        },
        ignore=(*SITE_FIELDS, "time_out"),
    )
    if "sites" in form.errors:
        form.errors["target_1"] = "record at least one injected site"

    def act() -> str:
        assert body is not None, "a form that read cleanly has its body"
        command = body.command(episode_id)
        products.record_injection(
            uow, app.clock, app.new_id, signed_in_staff(request), command, app.schedules
        )
        return "injected"

    values: dict[str, str | list[str]] = {**typed(posted), "time_out": confirmed}
    for name in SITE_FIELDS:
        values |= {f"{name}_{n}": str(v) for n, v in enumerate(posted.getlist(name), start=1)}
    return submit(
        form,
        act,
        lambda done: f"/episodes/{episode_id}/procedure?done={done}",
        lambda refused: _procedure_page(
            request, uow, app, episode_id, failed="injection", form=refused, values=values
        ),
    )
