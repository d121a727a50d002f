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
from regenpath.services import episodes, products, signatures
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
        product_max_hold=app.product_max_hold,
    )
    return TransitionOut(
        episode=EpisodeOut.of(result.episode), events=[e.as_dict() for e in result.events]
    )


@router.post("/episodes/{episode_id}/bedside-verifications", status_code=status.HTTP_201_CREATED)
def verify_at_bedside(
    episode_id: UUID, body: BedsideCheckIn, uow: CheckAtBedside, clock: ClockDep, ids: IdsDep
) -> BedsideCheckOut:
    outcome = products.verify_at_bedside(
        uow, clock, ids, products.BedsideCheck(episode_id=episode_id, **body.model_dump())
    )
    v = outcome.verification
    return BedsideCheckOut(
        id=v.id,
        product_id=v.product_id,
        patient_id=v.patient_id,
        passed=v.passed,
        method=v.method,
        verified_at=v.verified_at,
        verified_by=v.verified_by,
        mismatches=outcome.mismatches,
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
