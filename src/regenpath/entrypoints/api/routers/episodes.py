from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, status

from regenpath.domain.pathway import Stage
from regenpath.entrypoints.api.access import (
    CheckAtBedside,
    CreateEpisodes,
    MoveEpisodes,
    ReadEpisodes,
    ReadStageCounts,
    RecordHarvests,
    RecordInjections,
)
from regenpath.entrypoints.api.product_schemas import (
    HarvestIn,
    HarvestOut,
    InjectionIn,
    InjectionOut,
    ProductOut,
)
from regenpath.entrypoints.api.schemas import (
    BedsideCheckIn,
    BedsideCheckOut,
    EpisodeCreate,
    EpisodeOut,
    EpisodePage,
    EpisodeSummaryOut,
    TimelineEntryOut,
    TransitionIn,
    TransitionOut,
    WorklistCounts,
)
from regenpath.entrypoints.api.security_schemas import (
    CloseEpisodeIn,
    SignatureOut,
    problem_responses,
)
from regenpath.entrypoints.deps import AppDep, ClockDep, IdsDep, signed_in_staff
from regenpath.services import episodes, lab, products, signatures
from regenpath.services.ports import EpisodeQuery

router = APIRouter(tags=["episodes"])


@router.post("/episodes", status_code=status.HTTP_201_CREATED)
def open_episode(
    body: EpisodeCreate, uow: CreateEpisodes, clock: ClockDep, ids: IdsDep
) -> EpisodeOut:
    details = episodes.EpisodeDetails(**body.model_dump())
    return EpisodeOut.of(episodes.open_episode(uow, clock, ids, details))


@router.get("/episodes")
def list_episodes(
    uow: ReadEpisodes,
    clock: ClockDep,
    stage: Stage | None = None,
    clinic_id: UUID | None = None,
    patient_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> EpisodePage:
    page = episodes.list_episodes(
        uow,
        clock,
        EpisodeQuery(
            clinic_id=clinic_id, stage=stage, patient_id=patient_id, limit=limit, cursor=cursor
        ),
    )
    return EpisodePage(
        items=[EpisodeSummaryOut.of_summary(s) for s in page.items], next_cursor=page.next_cursor
    )


@router.get("/episodes/{episode_id}")
def read_episode(episode_id: UUID, uow: ReadEpisodes, clock: ClockDep) -> EpisodeOut:
    return EpisodeOut.of(episodes.get_episode(uow, clock, episode_id))


@router.get("/episodes/{episode_id}/timeline")
def read_timeline(episode_id: UUID, uow: ReadEpisodes, clock: ClockDep) -> list[TimelineEntryOut]:
    return [TimelineEntryOut.of(e) for e in episodes.episode_timeline(uow, clock, episode_id)]


@router.post("/episodes/{episode_id}/transitions", responses=problem_responses(409))
def transition(
    episode_id: UUID, body: TransitionIn, uow: MoveEpisodes, app: AppDep, ids: IdsDep
) -> TransitionOut:
    result = episodes.transition_episode(
        uow,
        app.clock,
        ids,
        episodes.TransitionCommand(
            episode_id=episode_id,
            to=body.to,
            expected_version=body.version,
            reason=body.reason,
            cell_source=body.cell_source,
            product_id=body.product_id,
        ),
    )
    return TransitionOut(
        episode=EpisodeOut.of(result.episode), events=[e.as_dict() for e in result.events]
    )


@router.post("/episodes/{episode_id}/bedside-verifications", status_code=status.HTTP_201_CREATED)
def verify_at_bedside(
    episode_id: UUID,
    body: BedsideCheckIn,
    uow: CheckAtBedside,
    request: Request,
    clock: ClockDep,
    ids: IdsDep,
) -> BedsideCheckOut:
    """Wristband (MRN, birth date) and label (DIN) against the patient and the cycle's product
    (BED-1). A mismatch is recorded (``passed: false``, a deviation) and blocks the injection."""
    outcome = products.verify_at_bedside(
        uow,
        clock,
        ids,
        signed_in_staff(request),
        products.BedsideCheck(episode_id=episode_id, **body.model_dump()),
    )
    return BedsideCheckOut.model_validate(outcome.verification)


@router.post(
    "/episodes/{episode_id}/harvest",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409),
)
def record_harvest(
    episode_id: UUID, body: HarvestIn, uow: RecordHarvests, request: Request, app: AppDep
) -> HarvestOut:
    """The harvest record: makes the product with its DIN and moves the cycle to harvested."""
    result = lab.record_harvest(
        uow, app.clock, app.new_id, app.lab, signed_in_staff(request), body.command(episode_id)
    )
    return HarvestOut(
        harvest_id=result.harvest.id,
        product=ProductOut.of(result.product, app.clock.now()),
        episode_version=body.version + 1,
    )


@router.post(
    "/episodes/{episode_id}/injection",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409),
)
def record_injection(
    episode_id: UUID, body: InjectionIn, uow: RecordInjections, request: Request, app: AppDep
) -> InjectionOut:
    """The injection record: needs a passed bedside check (BED-1) and a released, unexpired
    product (DON-7, EXP-1); administers the product and moves the cycle to recovery."""
    injection = products.record_injection(
        uow,
        app.clock,
        app.new_id,
        signed_in_staff(request),
        body.command(episode_id),
        app.schedules,
    )
    episode = episodes.get_episode(uow, app.clock, episode_id)
    return InjectionOut(
        injection_id=injection.id, episode=EpisodeOut.of(episode).model_dump(mode="json")
    )


@router.post("/episodes/{episode_id}/close", responses=problem_responses(409, 429))
def close_episode(
    episode_id: UUID,
    body: CloseEpisodeIn,
    uow: MoveEpisodes,
    request: Request,
    app: AppDep,
    ids: IdsDep,
) -> TransitionOut:
    """Complete the episode under the physician's electronic signature (re-enter the password).

    A wrong password answers 422 naming ``password``; the signature binds to a hash of the
    episode and the patient's identity, and shows as invalidated if either changes later.
    """
    result = signatures.close_episode(
        uow,
        app.clock,
        ids,
        app.hasher,
        app.lockout,
        signed_in_staff(request),
        signatures.CloseEpisode(
            episode_id=episode_id,
            expected_version=body.version,
            password=body.password,
            meaning=body.meaning,
            statement=body.statement,
        ),
    )
    return TransitionOut(
        episode=EpisodeOut.of(result.episode), events=[e.as_dict() for e in result.events]
    )


@router.get("/episodes/{episode_id}/signatures")
def read_signatures(episode_id: UUID, uow: ReadEpisodes, clock: ClockDep) -> list[SignatureOut]:
    """Each signature on the episode, ``valid`` or ``invalidated`` against the record now."""
    return [SignatureOut.of(s) for s in signatures.episode_signatures(uow, clock, episode_id)]


@router.get("/worklist")
def worklist(uow: ReadStageCounts, clinic_id: UUID | None = None) -> WorklistCounts:
    counts = episodes.count_by_stage(uow, clinic_id)
    return WorklistCounts(clinic_id=clinic_id, counts=counts)
