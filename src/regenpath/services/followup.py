"""Use cases of follow-up: the schedule an injection starts, the questionnaires that complete
its time points, the recovery plan, and what staff and patients see of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from uuid import UUID

from regenpath.domain.assessment import region_of
from regenpath.domain.audit import AuditAction
from regenpath.domain.episodes import Episode, TransitionRequest, TreatmentCycle
from regenpath.domain.errors import InvalidValue
from regenpath.domain.followup import (
    FollowUpVisit,
    QuestionnaireResponse,
    SchedulePolicy,
    VisitStatus,
    is_lost,
    schedule_visits,
)
from regenpath.domain.instruments import (
    Answers,
    Instrument,
    InstrumentCode,
    InstrumentLibrary,
    Score,
    checked_answers,
    score,
)
from regenpath.domain.messages import MessageStatus
from regenpath.domain.pathway import Stage
from regenpath.domain.patients import Patient
from regenpath.domain.recovery import RecoveryPlan, recovery_plan
from regenpath.domain.tasks import Task, TaskKind, TaskStatus
from regenpath.services.audit import record
from regenpath.services.clinics import clinic_day
from regenpath.services.episodes import move_loaded
from regenpath.services.errors import InvalidReference, NotFound
from regenpath.services.identity import Digest
from regenpath.services.ports import Clock, IdFactory, UnitOfWork


@dataclass(frozen=True)
class FollowUpSettings:
    instruments: InstrumentLibrary
    schedules: SchedulePolicy
    missed_for_lost: int
    nsaid_codes: frozenset[str]
    public_url: str
    link_lifetime: timedelta
    digest: Digest


def schedule_cycle(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    schedules: SchedulePolicy,
    episode: Episode,
    cycle: TreatmentCycle,
) -> list[FollowUpVisit]:
    """The follow-up schedule of an injected cycle, inside the injection's unit of work (FU-1).

    A repeat cycle (FU-4) cancels what was left of the earlier cycle's schedule: the patient
    is followed from the newest injection, and the earlier time points stay on record.
    """
    assert cycle.administered_at is not None, "a schedule starts at the injection"
    for earlier in uow.follow_up.visits(episode_id=episode.id):
        if earlier.completed_at is None and not earlier.cancelled:
            earlier.cancelled = True
            uow.follow_up.save_visit(earlier)
    visits = schedule_visits(
        new_id=new_id,
        clinic_id=episode.clinic_id,
        episode_id=episode.id,
        patient_id=episode.patient_id,
        cycle_number=cycle.number,
        injected_on=clinic_day(uow, episode.clinic_id, cycle.administered_at),
        points=schedules.for_condition(episode.condition_code),
    )
    uow.follow_up.add_visits(visits)
    record(
        uow,
        clock,
        AuditAction.CREATE,
        "follow_up_schedule",
        episode.id,
        episode.clinic_id,
        detail=f"cycle {cycle.number}: {len(visits)} time points",
    )
    return visits


def instruments_for(library: InstrumentLibrary, episode: Episode) -> list[Instrument]:
    """The questionnaires every time point of this episode asks (FU-2, by treated region)."""
    return library.for_region(region_of(episode.target_site))


@dataclass(frozen=True)
class VisitView:
    visit: FollowUpVisit
    status: VisitStatus
    responses: dict[str, QuestionnaireResponse]  # instrument code -> its response


@dataclass(frozen=True)
class TrajectoryPoint:
    day: int  # after the cycle's injection
    label: str
    value: float


@dataclass(frozen=True)
class FollowUpView:
    episode: Episode
    today: date
    visits: list[VisitView]
    instruments: list[Instrument]
    baseline: dict[str, float]  # score key ("nrs-spine:back") -> the evaluation's value
    trajectories: dict[str, list[TrajectoryPoint]] = field(default_factory=dict)
    plan: RecoveryPlan | None = None


def _baseline(uow: UnitOfWork, episode: Episode) -> dict[str, float]:
    """The scores measured at the evaluation, the reference every follow-up is compared to."""
    recorded = uow.evaluations.latest_assessment(episode.id)
    if recorded is None:
        return {}
    assessment = recorded.assessment
    pairs = {
        "nrs-spine:back": assessment.back_pain_nrs,
        "nrs-spine:leg": assessment.leg_pain_nrs,
        "nrs-joint:pain": assessment.pain_nrs,
        "odi:total": assessment.odi,
    }
    return {key: float(value) for key, value in pairs.items() if value is not None}


def _trajectories(
    visits: list[FollowUpVisit],
    responses: list[QuestionnaireResponse],
    injected: Mapping[int, date],
) -> dict[str, list[TrajectoryPoint]]:
    by_visit = {visit.id: visit for visit in visits}
    lines: dict[str, list[TrajectoryPoint]] = {}
    for response in responses:
        visit = by_visit.get(response.visit_id) if response.visit_id else None
        if response.completed_at is None or response.scores is None or visit is None:
            continue
        day = (visit.due_on - injected[visit.cycle_number]).days
        for name, value in response.scores.items():
            if value is not None:
                key = f"{response.instrument}:{name}"
                lines.setdefault(key, []).append(TrajectoryPoint(day, visit.label, value))
    return {key: sorted(points, key=lambda p: p.day) for key, points in lines.items()}


def read_follow_up(
    uow: UnitOfWork, clock: Clock, settings: FollowUpSettings, episode_id: UUID
) -> FollowUpView:
    """An episode's schedule with each time point's status and answers, its score
    trajectories and its recovery plan; the read is audited."""
    with uow:
        episode = uow.episodes.get(episode_id)
        if episode is None:
            raise NotFound("episode", episode_id)
        view = load_follow_up(uow, clock, settings, episode)
        uow.commit()
    return view


def load_follow_up(
    uow: UnitOfWork, clock: Clock, settings: FollowUpSettings, episode: Episode
) -> FollowUpView:
    """:func:`read_follow_up` inside the caller's open unit of work (audited there)."""
    today = clinic_day(uow, episode.clinic_id, clock.now())
    visits = uow.follow_up.visits(episode_id=episode.id)
    responses = uow.follow_up.responses(episode_id=episode.id)
    injected = {
        cycle.number: clinic_day(uow, episode.clinic_id, cycle.administered_at)
        for cycle in episode.cycles
        if cycle.administered_at is not None
    }
    record(uow, clock, AuditAction.READ, "follow_up", episode.id, episode.clinic_id)
    answered: dict[UUID, dict[str, QuestionnaireResponse]] = {}
    for response in responses:
        if response.visit_id is not None:
            answered.setdefault(response.visit_id, {})[response.instrument] = response
    return FollowUpView(
        episode=episode,
        today=today,
        visits=[
            VisitView(visit, visit.status(today), answered.get(visit.id, {})) for visit in visits
        ],
        instruments=instruments_for(settings.instruments, episode),
        baseline=_baseline(uow, episode),
        trajectories=_trajectories(visits, responses, injected),
        plan=_plan(uow, settings, episode),
    )


def injected_cycle(episode: Episode) -> TreatmentCycle | None:
    """The latest cycle with an injection: the one recovery and follow-up are about."""
    return next((c for c in reversed(episode.cycles) if c.administered_at is not None), None)


def _plan(uow: UnitOfWork, settings: FollowUpSettings, episode: Episode) -> RecoveryPlan | None:
    cycle = injected_cycle(episode)
    if cycle is None or cycle.administered_at is None:
        return None
    recorded = uow.evaluations.latest_assessment(episode.id)
    plan = recovery_plan(
        episode_id=episode.id,
        cycle_number=cycle.number,
        injected_on=clinic_day(uow, episode.clinic_id, cycle.administered_at),
        region=region_of(episode.target_site),
        assessment=recorded.assessment if recorded is not None else None,
        nsaid_codes=settings.nsaid_codes,
    )
    acknowledged = uow.follow_up.recovery_acknowledged(episode.id, cycle.number)
    return replace(plan, acknowledged_at=acknowledged)


def acknowledge_recovery_plan(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, episode_id: UUID, by: str
) -> datetime:
    """The patient's acknowledgement of the current cycle's recovery plan (RCV-1)."""
    with uow:
        episode = uow.episodes.get(episode_id)
        if episode is None:
            raise NotFound("episode", episode_id)
        cycle = injected_cycle(episode)
        if cycle is None:
            raise InvalidReference("episode", "no injection yet, so no recovery plan")
        earlier = uow.follow_up.recovery_acknowledged(episode.id, cycle.number)
        if earlier is not None:
            return earlier
        now = clock.now()
        uow.follow_up.acknowledge_recovery(
            id=new_id(),
            clinic_id=episode.clinic_id,
            episode_id=episode.id,
            patient_id=episode.patient_id,
            cycle_number=cycle.number,
            at=now,
            by=by,
        )
        record(
            uow,
            clock,
            AuditAction.UPDATE,
            "recovery_plan",
            episode.id,
            episode.clinic_id,
            detail="acknowledged",
        )
        uow.commit()
    return now


# -- the staff worklist ---------------------------------------------------------------------


@dataclass(frozen=True)
class WorklistEntry:
    visit: FollowUpVisit
    status: VisitStatus
    today: date  # in the visit's clinic
    patient: Patient
    episode: Episode
    tasks: list[Task]  # the open call and letter tasks that chase this time point


@dataclass(frozen=True)
class FollowUpWorklist:
    due: list[WorklistEntry]  # the window is open and the target day not passed
    late: list[WorklistEntry]  # past the target day, the window still open
    calls: list[WorklistEntry]  # time points whose ladder reached a call or a letter


REMINDER_TASKS = (TaskKind.FOLLOW_UP_CALL, TaskKind.FOLLOW_UP_LETTER)


def follow_up_worklist(
    uow: UnitOfWork, clock: Clock, clinic_id: UUID | None = None
) -> FollowUpWorklist:
    """Every open time point of the user's clinics (due, late) with who it is for, and the
    call and letter tasks the reminder ladder opened; the read is audited."""
    now = clock.now()
    with uow:
        # The clinics' days differ by their zones: a day either side of UTC's catches them all.
        horizon = now.date() + timedelta(days=1)
        visits = [
            v
            for v in uow.follow_up.open_visits(opened_by=horizon, closed_since=horizon.min)
            if clinic_id is None or v.clinic_id == clinic_id
        ]
        days = {c: clinic_day(uow, c, now) for c in {v.clinic_id for v in visits}}
        chasing: dict[UUID, list[Task]] = {}
        for task in uow.tasks.find(TaskStatus.OPEN):
            if task.kind in REMINDER_TASKS and task.visit_id is not None:
                chasing.setdefault(task.visit_id, []).append(task)
        patients: dict[UUID, Patient | None] = {}
        episodes: dict[UUID, Episode | None] = {}
        entries = []
        for visit in visits:
            status = visit.status(days[visit.clinic_id])
            if status not in (VisitStatus.DUE, VisitStatus.LATE):
                continue
            if visit.patient_id not in patients:
                patients[visit.patient_id] = uow.patients.get(visit.patient_id)
            if visit.episode_id not in episodes:
                episodes[visit.episode_id] = uow.episodes.get(visit.episode_id)
            patient, episode = patients[visit.patient_id], episodes[visit.episode_id]
            if patient is None or episode is None or episode.closed_at is not None:
                continue
            entries.append(
                WorklistEntry(
                    visit,
                    status,
                    days[visit.clinic_id],
                    patient,
                    episode,
                    chasing.get(visit.id, []),
                )
            )
        record(
            uow,
            clock,
            AuditAction.READ,
            "follow_up_worklist",
            None,
            clinic_id,
            detail=f"{len(entries)} open time points",
        )
        uow.commit()
    return FollowUpWorklist(
        due=[e for e in entries if e.status is VisitStatus.DUE],
        late=[e for e in entries if e.status is VisitStatus.LATE],
        calls=[e for e in entries if e.tasks],
    )


# -- answering ----------------------------------------------------------------------------------


def _open_visit(
    uow: UnitOfWork, clock: Clock, settings: FollowUpSettings, visit_id: UUID, code: str
) -> tuple[FollowUpVisit, Episode, Instrument, datetime]:
    visit = uow.follow_up.get_visit(visit_id)
    if visit is None:
        raise NotFound("follow-up visit", visit_id)
    episode = uow.episodes.get(visit.episode_id)
    if episode is None:
        raise NotFound("follow-up visit", visit_id)
    asked = {i.code.value: i for i in instruments_for(settings.instruments, episode)}
    if code not in asked:
        raise InvalidValue("instrument", f"this time point asks {', '.join(sorted(asked))}")
    now = clock.now()
    status = visit.status(clinic_day(uow, episode.clinic_id, now))
    if visit.cancelled or status not in (VisitStatus.DUE, VisitStatus.LATE):
        raise InvalidValue("visit", f"this time point is {status.value}, not open for answers")
    return visit, episode, asked[code], now


def _response_for(
    uow: UnitOfWork,
    new_id: IdFactory,
    visit: FollowUpVisit,
    instrument: Instrument,
    now: datetime,
    entered_by: str,
) -> QuestionnaireResponse:
    for response in uow.follow_up.responses(visit_id=visit.id):
        if response.instrument == instrument.code.value:
            if response.completed_at is not None:
                raise InvalidValue("instrument", "this questionnaire is already completed")
            return response
    response = QuestionnaireResponse.begin(new_id(), visit, instrument, now, entered_by)
    uow.follow_up.add_response(response)
    return response


@dataclass(frozen=True)
class OpenQuestionnaire:
    """One questionnaire of an open time point, as far as it is answered."""

    visit: FollowUpVisit
    instrument: Instrument
    answers: dict[str, int]
    completed: bool


def open_questionnaire(
    uow: UnitOfWork, clock: Clock, settings: FollowUpSettings, visit_id: UUID, code: str
) -> OpenQuestionnaire:
    """Where a patient is in a questionnaire of a due or late time point, for resuming it;
    the read is audited."""
    with uow:
        visit, _episode, instrument, _now = _open_visit(uow, clock, settings, visit_id, code)
        response = next(
            (r for r in uow.follow_up.responses(visit_id=visit.id) if r.instrument == code), None
        )
        record(uow, clock, AuditAction.READ, "questionnaire_response", visit.id, visit.clinic_id)
        uow.commit()
    return OpenQuestionnaire(
        visit=visit,
        instrument=instrument,
        answers=dict(response.answers) if response is not None else {},
        completed=response is not None and response.completed_at is not None,
    )


def save_answers(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    settings: FollowUpSettings,
    visit_id: UUID,
    code: str,
    answers: Answers,
    entered_by: str,
    *,
    complete: bool,
) -> QuestionnaireResponse:
    """Store answers to one questionnaire of an open time point; ``complete`` scores and closes
    it. The answers are checked first: a box the item does not have is refused naming the
    item, and nothing is stored. A portal patient saves one answer at a time and resumes."""
    with uow:
        visit, episode, instrument, now = _open_visit(uow, clock, settings, visit_id, code)
        checked = checked_answers(instrument, answers)
        response = _response_for(uow, new_id, visit, instrument, now, entered_by)
        response.answers = {**response.answers, **checked}
        response.updated_at = now
        if complete:
            response.complete(instrument, now)
        uow.follow_up.save_response(response)
        detail = f"{code}: {'completed' if complete else f'{len(response.answers)} answered'}"
        record(
            uow,
            clock,
            AuditAction.UPDATE if not complete else AuditAction.CREATE,
            "questionnaire_response",
            response.id,
            visit.clinic_id,
            detail=detail,
        )
        if complete:
            _complete_if_all_in(uow, clock, settings, visit, episode, now)
        uow.commit()
    return response


def _complete_if_all_in(
    uow: UnitOfWork,
    clock: Clock,
    settings: FollowUpSettings,
    visit: FollowUpVisit,
    episode: Episode,
    now: datetime,
) -> None:
    """The time point is completed once every questionnaire it asks is in; the reminder
    ladder stops there: its queued emails are withdrawn and its call and letter tasks close.
    A patient lost to follow-up who answers is back in follow-up (issue 8)."""
    done = {r.instrument for r in uow.follow_up.responses(visit_id=visit.id) if r.completed_at}
    asked = {i.code.value for i in instruments_for(settings.instruments, episode)}
    if not asked <= done:
        return
    visit.completed_at = now
    uow.follow_up.save_visit(visit)
    for message in uow.outbox.for_visit(visit.id):
        if message.status is MessageStatus.PENDING:
            message.status, message.last_error = MessageStatus.FAILED, "withdrawn: completed"
            message.secret_link = None
            uow.outbox.save(message)
    uow.tasks.close_for_visit(visit.id, now)
    if episode.stage is Stage.RECOVERY or (
        episode.stage is Stage.LOST_TO_FOLLOW_UP
        and not is_lost(
            uow.follow_up.visits(episode_id=episode.id),
            clinic_day(uow, episode.clinic_id, now),
            settings.missed_for_lost,
        )
    ):
        # RCV-1: a time point answered is the reason follow-up starts, whatever the day.
        answered = TransitionRequest(
            to=Stage.FOLLOW_UP, reason=f"The {visit.label} questionnaires are in"
        )
        move_loaded(uow, clock, episode, answered, by_rule=True)


def score_answers(library: InstrumentLibrary, code: str, answers: Answers) -> Score:
    """Score without storing (the public scoring endpoint)."""
    try:
        instrument = library[InstrumentCode(code)]
    except ValueError:
        raise NotFound("instrument", code) from None
    return score(instrument, answers)
