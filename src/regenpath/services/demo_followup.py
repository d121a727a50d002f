"""The demo's follow-up history: questionnaires answered at the time points already past, so
the worklist, the trajectories and the lost-to-follow-up rule have something true to show.

Three kinds of patient, as the registry would see them: responders (pain and disability fall
by half or more over three months and stay down), non-responders (they hover around their
baseline) and drop-outs (they answer a time point or two, then stop, and are lost).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from regenpath.domain.assessment import region_of
from regenpath.domain.followup import FollowUpVisit, QuestionnaireResponse
from regenpath.domain.instruments import Instrument, InstrumentLibrary
from regenpath.domain.pathway import Stage
from regenpath.services.ports import IdFactory, UnitOfWork

RESPONDER, FADING, NON_RESPONDER = "responder", "fading responder", "non-responder"


def _fraction_left(kind: str, day: int, rng: random.Random) -> float:
    """What is left of the baseline score ``day`` days after the injection: responders keep
    their relief, fading responders lose it again over the year after month six (what the
    durability curve is there to show), non-responders hover around their baseline."""
    if kind in (RESPONDER, FADING):
        relief = 0.6 * min(1.0, day / 90)  # most of it within three months
        if kind == FADING and day > 180:
            relief *= max(0.0, 1 - (day - 180) / 365)
        return max(0.0, 1 - relief + rng.uniform(-0.1, 0.1))
    return max(0.0, 1 + rng.uniform(-0.15, 0.15))


def _answers(instrument: Instrument, level: float, rng: random.Random) -> dict[str, int]:
    """Answers whose score sits near ``level`` (0 = no problem, 1 = worst)."""
    answers: dict[str, int] = {}
    for item in instrument.items:
        highest = item.highest
        value = round(level * highest + rng.uniform(-0.6, 0.6))
        answers[item.id] = min(highest, max(0, value))
    return answers


def seed_follow_up_history(
    uow: UnitOfWork,
    new_id: IdFactory,
    library: InstrumentLibrary,
    rng: random.Random,
    as_of: date,
) -> int:
    """Answer the demo's past time points; returns how many questionnaires were stored."""
    stored = 0
    with uow:
        visits = uow.follow_up.open_visits(opened_by=as_of, closed_since=date.min)
        by_episode: dict[UUID, list[FollowUpVisit]] = {}
        for visit in visits:
            by_episode.setdefault(visit.episode_id, []).append(visit)
        for episode_id, schedule in by_episode.items():
            episode = uow.episodes.get(episode_id)
            if episode is None or episode.stage is Stage.WITHDRAWN:
                continue
            recorded = uow.evaluations.latest_assessment(episode.id)
            baseline = recorded.assessment if recorded is not None else None
            pain = (
                baseline.back_pain_nrs or baseline.pain_nrs if baseline is not None else None
            ) or 7
            draw = rng.random()
            kind = RESPONDER if draw < 0.4 else FADING if draw < 0.55 else NON_RESPONDER
            schedule.sort(key=lambda v: v.due_on)
            answered = len(schedule)
            if episode.stage is Stage.LOST_TO_FOLLOW_UP:
                answered = max(0, len(schedule) - 2 - rng.randint(0, 1))
            injected = schedule[0].due_on - timedelta(days=14)
            instruments = library.for_region(region_of(episode.target_site))
            for visit in schedule[:answered]:
                if visit.closes_on > as_of and rng.random() < 0.5:
                    continue  # still open: not everyone has answered yet
                day = (visit.due_on - injected).days
                level = min(1.0, pain / 10 * _fraction_left(kind, day, rng))
                at = datetime.combine(
                    min(visit.due_on + timedelta(days=rng.randint(0, 3)), as_of),
                    time(15, 0),
                    tzinfo=UTC,
                )
                for instrument in instruments:
                    response = QuestionnaireResponse.begin(
                        new_id(), visit, instrument, at, "patient"
                    )
                    response.answers = _answers(instrument, level, rng)
                    response.complete(instrument, at)
                    uow.follow_up.add_response(response)
                    stored += 1
                visit.completed_at = at
                visit.reminders_sent = rng.randint(1, 2)
                uow.follow_up.save_visit(visit)
        uow.commit()
    return stored
