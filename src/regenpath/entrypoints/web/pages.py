"""The staff pages: worklist, patient search, registration, the chart with its transitions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from regenpath.domain.access import Action, Resource, is_permitted
from regenpath.domain.episodes import Episode
from regenpath.domain.errors import InvalidValue
from regenpath.domain.pathway import PATHWAY_ORDER, Stage, allowed_transitions
from regenpath.domain.patients import AdministrativeSex
from regenpath.domain.procedures import Laterality
from regenpath.domain.products import CellSource
from regenpath.domain.recovery import NO_NSAID_DAYS
from regenpath.domain.signatures import SignatureMeaning
from regenpath.entrypoints.deps import (
    AppDep,
    ClockDep,
    IdsDep,
    current_session,
    public,
    signed_in_staff,
)
from regenpath.entrypoints.web.access import (
    CreateEpisodes,
    CreatePatients,
    MoveEpisodes,
    ReadEpisodes,
    ReadPatients,
)
from regenpath.entrypoints.web.account_pages import home_of
from regenpath.entrypoints.web.forms import REFUSALS, FormReader, explain
from regenpath.entrypoints.web.rendering import clinic_zones, templates
from regenpath.services import clinics, consent, episodes, patients, products, signatures
from regenpath.services.errors import (
    DuplicateValue,
    InvalidReference,
    ProbableDuplicate,
)
from regenpath.services.ports import Clock, EpisodeQuery, PatientQuery, UnitOfWork

router = APIRouter(include_in_schema=False)
T = TypeVar("T")


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


@router.get("/", dependencies=[Depends(public)])
def home(request: Request) -> RedirectResponse:
    """Each person starts where their work is; anyone else signs in first."""
    signed_in = current_session(request)
    if signed_in is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(home_of(signed_in[0]), status_code=303)


@router.get("/worklist", response_class=HTMLResponse)
def worklist(
    request: Request,
    uow: ReadEpisodes,
    clock: ClockDep,
    stage: Stage | None = None,
    clinic_id: UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    page = episodes.list_episodes(
        uow,
        clock,
        EpisodeQuery(
            clinic_id=clinic_id, stage=stage, open_only=stage is None, limit=50, cursor=cursor
        ),
    )
    context: dict[str, Any] = {
        "stage": stage,
        "clinic_id": clinic_id,
        "page": page,
        "zones": clinic_zones(uow),
    }
    if _is_htmx(request):
        return templates.TemplateResponse(request, "partials/worklist_table.html", context)
    context |= {
        "counts": episodes.count_by_stage(uow, clinic_id),
        "stages": PATHWAY_ORDER,
        "clinics": clinics.list_clinics(uow),
    }
    return templates.TemplateResponse(request, "worklist.html", context)


@router.get("/patients", response_class=HTMLResponse)
def patient_search(
    request: Request,
    uow: ReadPatients,
    clock: ClockDep,
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    query = _patient_query(q)
    page = patients.search_patients(uow, clock, query)
    context = {"q": q, "page": page}
    name = "partials/patient_rows.html" if _is_htmx(request) else "patients.html"
    return templates.TemplateResponse(request, name, context)


def _patient_query(text: str) -> PatientQuery:
    """One search box: a date searches birth dates, a word with a digit searches MRNs."""
    text = text.strip()
    if not text:
        return PatientQuery(limit=50)
    try:
        return PatientQuery(birth_date=date.fromisoformat(text), limit=50)
    except ValueError:
        pass
    if any(ch.isdigit() for ch in text) and " " not in text:
        return PatientQuery(mrn=text, limit=50)
    return PatientQuery(name=text, limit=50)


@router.get("/patients/new", response_class=HTMLResponse)
def new_patient_form(request: Request, uow: CreatePatients) -> Response:
    return _patient_form(request, uow, values={}, errors={})


def _patient_form(
    request: Request,
    uow: UnitOfWork,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
    alike: list[tuple[UUID, str, str]] | None = None,
) -> Response:
    return templates.TemplateResponse(
        request,
        "patient_new.html",
        {
            "clinics": clinics.list_clinics(uow),
            "sexes": list(AdministrativeSex),
            "values": values,
            "errors": errors,
            "alike": alike or [],
        },
        status_code=status_code,
    )


@router.post("/patients", response_class=HTMLResponse)
def register_patient(
    request: Request,
    uow: CreatePatients,
    clock: ClockDep,
    ids: IdsDep,
    clinic_id: Annotated[str, Form()] = "",
    mrn: Annotated[str, Form(max_length=64)] = "",
    family_name: Annotated[str, Form(max_length=100)] = "",
    given_name: Annotated[str, Form(max_length=100)] = "",
    birth_date: Annotated[str, Form(max_length=10)] = "",
    sex: Annotated[str, Form(max_length=16)] = "",
    duplicate_reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    values = {
        "duplicate_reason": duplicate_reason,
        "clinic_id": clinic_id,
        "mrn": mrn,
        "family_name": family_name,
        "given_name": given_name,
        "birth_date": birth_date,
        "sex": sex,
    }
    form = FormReader()
    parsed_clinic = form.parse(UUID, clinic_id, "clinic_id", "choose a clinic")
    parsed_birth = form.day(birth_date, "birth_date")
    parsed_sex = form.choice(AdministrativeSex, sex, "sex")
    if not form.ok:
        return _patient_form(request, uow, values, form.errors, status_code=422)
    assert parsed_clinic and parsed_birth and parsed_sex
    try:
        patient = patients.register_patient(
            uow,
            clock,
            ids,
            patients.PatientDetails(
                clinic_id=parsed_clinic,
                mrn=mrn,
                family_name=family_name,
                given_name=given_name,
                birth_date=parsed_birth,
                sex=parsed_sex,
                duplicate_reason=duplicate_reason or None,
            ),
        )
    except ProbableDuplicate as error:
        # ID-2: the look-alikes named, what was typed kept, and a reason asked for.
        errors = {error.field: error.message}
        return _patient_form(request, uow, values, errors, 409, alike=error.candidates)
    except (InvalidValue, InvalidReference, DuplicateValue) as error:
        return _patient_form(request, uow, values, {error.field: error.message}, 422)
    return RedirectResponse(f"/patients/{patient.id}", status_code=303)


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def chart(request: Request, patient_id: UUID, uow: ReadPatients, clock: ClockDep) -> Response:
    return _chart(request, uow, clock, patient_id)


def _chart(
    request: Request,
    uow: UnitOfWork,
    clock: Clock,
    patient_id: UUID,
    *,
    errors: dict[str, str] | None = None,
    refusal: dict[UUID, str] | None = None,
    status_code: int = 200,
) -> Response:
    patient = patients.get_patient(uow, clock, patient_id)
    clinic = clinics.get_clinic(uow, patient.clinic_id)
    page = episodes.list_episodes(uow, clock, EpisodeQuery(patient_id=patient.id, limit=200))
    cards = [
        _episode_card(uow, clock, s.episode, refusal=(refusal or {}).get(s.episode.id))
        for s in page.items
    ]
    return templates.TemplateResponse(
        request,
        "chart.html",
        {
            "patient": patient,
            "clinic": clinic,
            "cards": cards,
            "lateralities": list(Laterality),
            "errors": errors or {},
        },
        status_code=status_code,
    )


# Stages reached through their record, not a button: the eligibility decision, the signed
# consent, the harvest
# record, the lab's finished processing, the signed release, the injection record (each on
# its own page).
MOVED_BY_RECORDS = frozenset(
    {
        Stage.ELIGIBLE,
        Stage.INELIGIBLE,
        Stage.CONSENTED,
        Stage.HARVESTED,
        Stage.PROCESSED,
        Stage.RELEASED,
        Stage.ADMINISTERED,
    }
)


def _episode_card(
    uow: UnitOfWork,
    clock: Clock,
    episode: Episode,
    refusal: str | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    """What one episode card shows; the caller passes the episode it has already read.

    Only the moves the user's role may make are offered (the service refuses the rest anyway).
    """
    cycle = episode.current_cycle
    clinic = episode.clinic_id
    role = (uow.scope.roles or {}).get(clinic)
    transitions = [
        t
        for t in allowed_transitions(episode.stage)
        if uow.scope.may_move_to(clinic, t.target) and t.target not in MOVED_BY_RECORDS
    ]
    # CON-1: a cycle is offered only within the consent (its cells, its sessions left).
    scoped = any(t.target in (Stage.PLANNED, Stage.PRODUCT_ALLOCATED) for t in transitions)
    versions = consent.plan_versions(uow, clock, episode.id) if scoped else []
    plan = versions[-1] if versions and episode.consented_at is not None else None
    administered = cycle.administered_at if cycle is not None else None
    return {
        "now": clock.now(),
        # RCV-1: before this, follow-up starts only with a reason (the card asks for one).
        "recovery_ends": administered + timedelta(days=NO_NSAID_DAYS) if administered else None,
        "plan": plan,
        "sessions_left": plan.sessions - episode.sessions_given if plan is not None else 0,
        "episode": episode,
        "cycle": cycle,
        "zone": clinics.get_clinic(uow, clinic).time_zone,
        "transitions": transitions,
        "may_close": any(t.target is Stage.COMPLETED for t in transitions),
        "may_harvest": role is not None and is_permitted(role, Action.CREATE, Resource.HARVEST),
        "timeline": episodes.episode_timeline(uow, clock, episode.id),
        "signatures": (
            signatures.episode_signatures(uow, clock, episode.id)
            if episode.stage is Stage.COMPLETED
            else []
        ),
        "meanings": list(SignatureMeaning),
        "donor_products": (
            [
                product
                for product in products.available_donor_products(uow, clock, clinic)
                if plan is not None and product.product_type is plan.product_type
            ]
            if episode.stage is Stage.PLANNED
            and cycle is not None
            and cycle.cell_source is CellSource.ALLOGENEIC
            else []
        ),
        "refusal": refusal,
        "notice": notice,
    }


@router.post("/patients/{patient_id}/episodes", response_class=HTMLResponse)
def open_episode(
    request: Request,
    patient_id: UUID,
    uow: CreateEpisodes,
    clock: ClockDep,
    ids: IdsDep,
    condition_code: Annotated[str, Form(max_length=10)] = "",
    condition_text: Annotated[str, Form(max_length=200)] = "",
    target_site: Annotated[str, Form(max_length=100)] = "",
    laterality: Annotated[str, Form(max_length=20)] = "not_applicable",
) -> Response:
    form = FormReader()
    side = form.choice(Laterality, laterality, "laterality")
    if side is not None:
        try:
            episodes.open_episode(
                uow,
                clock,
                ids,
                episodes.EpisodeDetails(
                    patient_id=patient_id,
                    condition_code=condition_code,
                    condition_text=condition_text,
                    target_site=target_site,
                    laterality=side,
                ),
            )
        except (InvalidValue, InvalidReference) as error:
            form.errors[error.field] = error.message
    if not form.ok:
        return _chart(request, uow, clock, patient_id, errors=form.errors, status_code=422)
    return RedirectResponse(f"/patients/{patient_id}", status_code=303)


@router.post("/episodes/{episode_id}/transitions", response_class=HTMLResponse)
def transition(
    request: Request,
    episode_id: UUID,
    uow: MoveEpisodes,
    app: AppDep,
    clock: ClockDep,
    ids: IdsDep,
    to: Annotated[str, Form(max_length=32)],
    version: Annotated[int, Form(ge=1)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    cell_source: Annotated[str, Form(max_length=20)] = "",
    product_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    refusal: str | None = None
    episode = episodes.get_episode(uow, clock, episode_id)
    try:
        episodes.transition_episode(
            uow,
            app.clock,
            ids,
            episodes.TransitionCommand(
                episode_id=episode_id,
                to=Stage(to),
                expected_version=version,
                reason=reason.strip() or None,
                cell_source=CellSource(cell_source) if cell_source else None,
                product_id=UUID(product_id) if product_id else None,
            ),
        )
    except REFUSALS as error:
        refusal = explain(error)
    return _after_episode_change(request, uow, clock, episode.patient_id, episode_id, refusal)


@router.post("/episodes/{episode_id}/close", response_class=HTMLResponse)
def close_episode(
    request: Request,
    episode_id: UUID,
    uow: MoveEpisodes,
    app: AppDep,
    version: Annotated[int, Form(ge=1)],
    password: Annotated[str, Form(max_length=200)] = "",
    meaning: Annotated[str, Form(max_length=20)] = "responsibility",
    statement: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    episode = episodes.get_episode(uow, app.clock, episode_id)
    refusal = notice = None
    try:
        signatures.close_episode(
            uow,
            app.clock,
            app.new_id,
            app.hasher,
            app.lockout,
            signed_in_staff(request),
            signatures.CloseEpisode(
                episode_id=episode_id,
                expected_version=version,
                password=password,
                meaning=SignatureMeaning(meaning),
                statement=statement.strip() or None,
            ),
        )
    except REFUSALS as error:
        refusal = explain(error)
    else:
        notice = "Episode closed and signed."
    return _after_episode_change(
        request, uow, app.clock, episode.patient_id, episode_id, refusal, notice
    )


def _after_episode_change(
    request: Request,
    uow: UnitOfWork,
    clock: Clock,
    patient_id: UUID,
    episode_id: UUID,
    refusal: str | None,
    notice: str | None = None,
) -> Response:
    status_code = 409 if refusal else 200
    if _is_htmx(request):
        episode = episodes.get_episode(uow, clock, episode_id)
        card = _episode_card(uow, clock, episode, refusal=refusal, notice=notice)
        # HTMX swaps only 2xx by default; a refusal is still content the user must read.
        return templates.TemplateResponse(request, "partials/episode_card.html", {"card": card})
    if refusal:
        return _chart(
            request, uow, clock, patient_id, refusal={episode_id: refusal}, status_code=status_code
        )
    return RedirectResponse(f"/patients/{patient_id}#episode-{episode_id}", status_code=303)
