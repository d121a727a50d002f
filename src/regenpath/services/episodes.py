"""Use cases for care episodes: open one, move it through the pathway, read it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from regenpath.domain.audit import AuditAction
from regenpath.domain.consent import TreatmentPlan
from regenpath.domain.episodes import Episode, TransitionRequest
from regenpath.domain.events import DomainEvent
from regenpath.domain.pathway import CYCLE_STAGES, TRANSITIONS, Stage
from regenpath.domain.procedures import Laterality
from regenpath.domain.products import CellSource, Product
from regenpath.services.audit import failures_recorded, read_one, record, record_search
from regenpath.services.errors import InvalidReference, NotFound, PermissionDenied, StaleVersion
from regenpath.services.ports import (
    Clock,
    EpisodeQuery,
    EpisodeSummary,
    IdFactory,
    Page,
    TimelineEntry,
    UnitOfWork,
)


@dataclass(frozen=True)
class EpisodeDetails:
    patient_id: UUID
    condition_code: str
    condition_text: str
    target_site: str
    laterality: Laterality


@dataclass(frozen=True)
class TransitionCommand:
    episode_id: UUID
    to: Stage
    expected_version: int
    reason: str | None = None
    cell_source: CellSource | None = None
    product_id: UUID | None = None


@dataclass(frozen=True)
class TransitionResult:
    episode: Episode
    events: list[DomainEvent]


def open_episode(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, details: EpisodeDetails
) -> Episode:
    with failures_recorded(uow, clock, AuditAction.CREATE, "episode", None), uow:
        patient = uow.patients.get(details.patient_id)
        if patient is None:
            raise InvalidReference("patient_id", "no such patient")
        episode = Episode.open(
            id=new_id(),
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            condition_code=details.condition_code,
            condition_text=details.condition_text,
            target_site=details.target_site,
            laterality=details.laterality,
            now=clock.now(),
        )
        uow.episodes.add(episode)
        record(uow, clock, AuditAction.CREATE, "episode", episode.id, episode.clinic_id)
        uow.commit()
    return episode


def get_episode(uow: UnitOfWork, clock: Clock, episode_id: UUID) -> Episode:
    return read_one(uow, clock, "episode", episode_id, lambda: uow.episodes.get(episode_id))


def list_episodes(uow: UnitOfWork, clock: Clock, query: EpisodeQuery) -> Page[EpisodeSummary]:
    with uow:
        page = uow.episodes.find(query)
        record_search(
            uow,
            clock,
            "episode",
            query.clinic_id,
            {"stage": query.stage, "patient_id": query.patient_id, "open": query.open_only},
            found=len(page.items),
        )
        uow.commit()
    return page


def episode_timeline(uow: UnitOfWork, clock: Clock, episode_id: UUID) -> list[TimelineEntry]:
    with failures_recorded(uow, clock, AuditAction.READ, "episode_timeline", episode_id), uow:
        episode = uow.episodes.get(episode_id)
        if episode is None:
            raise NotFound("episode", episode_id)
        timeline = uow.episodes.timeline(episode_id)
        record(uow, clock, AuditAction.READ, "episode_timeline", episode_id, episode.clinic_id)
        uow.commit()
    return timeline


def transition_episode(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    command: TransitionCommand,
) -> TransitionResult:
    """Move an episode to ``command.to``; the domain decides, this loads what it looks at.

    Raises TransitionRefused (nothing written), StaleVersion, NotFound or InvalidReference.
    """
    with failures_recorded(uow, clock, AuditAction.TRANSITION, "episode", command.episode_id):
        return apply_transition(uow, clock, new_id, command)


def apply_transition(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    command: TransitionCommand,
    signing: Callable[[Episode], None] | None = None,
) -> TransitionResult:
    """``signing``, when given, stores the move's electronic signature in the same
    transaction, after the domain accepted the move and before the commit."""
    with uow:
        episode = uow.episodes.get(command.episode_id)
        if episode is None:
            raise NotFound("episode", command.episode_id)
        check_version(episode, command.expected_version)
        product = _product_for(uow, episode, command)
        request = TransitionRequest(
            plan=consented_plan(uow, episode, command.to),
            to=command.to,
            reason=command.reason,
            cell_source=command.cell_source,
            new_cycle_id=new_id() if command.to is Stage.PLANNED else None,
            product=product,
            verification=(
                uow.products.latest_verification(product.id)
                if product is not None and command.to is Stage.ADMINISTERED
                else None
            ),
            signed=signing is not None,
        )
        events = move_loaded(uow, clock, episode, request, signing=signing)
        uow.commit()
    return TransitionResult(episode, events)


# The steps a consent's scope bounds (CON-1, SITE-1): the domain checks each against the plan.
PLAN_SCOPED = frozenset(
    {Stage.PLANNED, Stage.HARVESTED, Stage.PRODUCT_ALLOCATED, Stage.ADMINISTERED}
)


def consented_plan(uow: UnitOfWork, episode: Episode, to: Stage) -> TreatmentPlan | None:
    """The plan the patient's standing consent was signed on, for a step it bounds: the latest
    version, since a newer one voids the consent until it is signed again."""
    if to not in PLAN_SCOPED or episode.consented_at is None:
        return None
    return uow.evaluations.latest_plan(episode.id)


def check_version(episode: Episode, expected_version: int) -> None:
    """Optimistic concurrency: the caller acts on the version it read, or not at all."""
    if episode.version != expected_version:
        raise StaleVersion("episode", episode.id, expected_version, actual=episode.version)


def move_loaded(
    uow: UnitOfWork,
    clock: Clock,
    episode: Episode,
    request: TransitionRequest,
    *,
    signing: Callable[[Episode], None] | None = None,
    by_rule: bool = False,
) -> list[DomainEvent]:
    """Apply a transition to an episode loaded in this unit of work and write what it changed:
    the episode, its product, the timeline entry and the audit entry (the caller commits).

    Raises TransitionRefused, with nothing written, when a guard says no, and PermissionDenied
    when the move is the step of another role (STAGE_ROLES). ``by_rule``: the pathway's own
    rule makes the move (lost to follow-up and back), not the person whose request it is.
    """
    # A move the pathway does not have is refused by the domain for everyone (409); a move
    # it has is refused here for a role whose step it is not (403).
    if (
        not by_rule
        and (episode.stage, request.to) in TRANSITIONS
        and not uow.scope.may_move_to(episode.clinic_id, request.to)
    ):
        raise PermissionDenied(f"your role may not move an episode to {request.to.label.lower()}")
    now = clock.now()
    source, version = episode.stage, episode.version
    events = episode.transition(request, now)
    cycle = episode.current_cycle
    change = TimelineEntry(
        episode_id=episode.id,
        from_stage=source,
        to_stage=episode.stage,
        occurred_at=now,
        cycle_number=cycle.number if cycle is not None and request.to in CYCLE_STAGES else None,
        reason=request.reason,
        events=[event.as_dict() for event in events],
    )
    if request.product is not None:
        uow.products.save(request.product)
    uow.episodes.save(episode, version, change)
    if signing is not None:
        signing(episode)
    record(
        uow,
        clock,
        AuditAction.TRANSITION,
        "episode",
        episode.id,
        episode.clinic_id,
        reason=request.reason,
        detail=f"{source} -> {episode.stage}",
    )
    return events


def _product_for(uow: UnitOfWork, episode: Episode, command: TransitionCommand) -> Product | None:
    """The product the transition is about: the chosen donor product, or the cycle's own."""
    if command.to is Stage.PRODUCT_ALLOCATED:
        if command.product_id is None:
            return None
        chosen = uow.products.get(command.product_id)
        if chosen is None or chosen.clinic_id != episode.clinic_id:
            raise InvalidReference("product_id", "no such product in this clinic")
        return chosen
    cycle = episode.current_cycle
    if command.to in (Stage.PROCESSED, Stage.RELEASED, Stage.ADMINISTERED) and cycle is not None:
        return uow.products.get(cycle.product_id) if cycle.product_id is not None else None
    return None


def count_by_stage(uow: UnitOfWork, clinic_id: UUID | None = None) -> dict[Stage, int]:
    """How many episodes wait in each stage: the head of the worklist (every stage listed)."""
    with uow:
        counts = uow.episodes.count_by_stage(clinic_id)
    return {stage: counts.get(stage, 0) for stage in Stage}
