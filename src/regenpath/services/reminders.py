"""The follow-up rules the worker applies: the reminder ladder of every open time point, the
end of recovery, and lost to follow-up. One transaction per episode, so one bad record stops
only its own episode's work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from itertools import groupby
from uuid import UUID

from regenpath.domain.audit import AuditAction
from regenpath.domain.episodes import Episode, TransitionRequest
from regenpath.domain.followup import FollowUpVisit, ReminderStep, is_lost, missed_in_a_row
from regenpath.domain.pathway import Stage
from regenpath.domain.recovery import NO_NSAID_DAYS
from regenpath.domain.tasks import Task, TaskKind
from regenpath.services.audit import record
from regenpath.services.clinics import clinic_day
from regenpath.services.episodes import move_loaded
from regenpath.services.followup import FollowUpSettings
from regenpath.services.portal import queue_portal_email
from regenpath.services.ports import Clock, IdFactory, UnitOfWork


@dataclass
class RulesReport:
    emails: int = 0
    calls: int = 0
    letters: int = 0
    to_follow_up: int = 0
    lost: int = 0


def apply_follow_up_rules(
    unit_of_work: Callable[[], UnitOfWork],
    clock: Clock,
    new_id: IdFactory,
    settings: FollowUpSettings,
) -> RulesReport:
    report = RulesReport()
    now = clock.now()
    with unit_of_work() as uow:
        # Clinics' days differ by their zones: a day either side of UTC's catches them all.
        horizon = now.date() + timedelta(days=1)
        visits = uow.follow_up.open_visits(opened_by=horizon, closed_since=horizon.min)
    ordered = sorted(visits, key=lambda v: (str(v.episode_id), v.cycle_number, v.sequence))
    for episode_id, group in groupby(ordered, key=lambda v: v.episode_id):
        _episode_rules(unit_of_work(), clock, new_id, settings, episode_id, list(group), report)
    return report


def _episode_rules(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    settings: FollowUpSettings,
    episode_id: UUID,
    visits: list[FollowUpVisit],
    report: RulesReport,
) -> None:
    with uow:
        # Several workers may run at once (PostgreSQL): the one that claims the episode works
        # on it; the others pass it by. Its visits are read again under the claim, since the
        # list was read before and another worker may have climbed a rung since.
        episode = uow.episodes.claim(episode_id)
        if episode is None or episode.closed_at is not None:
            return
        wanted = {visit.id for visit in visits}
        current = [
            visit
            for visit in uow.follow_up.visits(episode_id=episode.id)
            if visit.id in wanted and visit.completed_at is None and not visit.cancelled
        ]
        today = clinic_day(uow, episode.clinic_id, clock.now())
        for visit in current:
            step = visit.next_reminder(today)
            if step is not None:
                _climb(uow, clock, new_id, settings, episode, visit, step, report)
        cycle = episode.current_cycle
        if (
            episode.stage is Stage.RECOVERY
            and cycle is not None
            and cycle.administered_at is not None
            and today
            >= clinic_day(uow, episode.clinic_id, cycle.administered_at)
            + timedelta(days=NO_NSAID_DAYS)
        ):
            # The clinic's calendar day has come; the instant may be a few hours short of
            # the domain's 14 x 24 h (RCV-1), so the rule says why it moves now.
            recovered = TransitionRequest(
                to=Stage.FOLLOW_UP, reason=f"{NO_NSAID_DAYS}-day recovery over (RCV-1)"
            )
            move_loaded(uow, clock, episode, recovered, by_rule=True)
            report.to_follow_up += 1
        if episode.stage is Stage.FOLLOW_UP:
            every = uow.follow_up.visits(episode_id=episode.id)
            if is_lost(every, today, settings.missed_for_lost):
                reason = f"{missed_in_a_row(every, today)} follow-up time points missed in a row"
                move_loaded(
                    uow,
                    clock,
                    episode,
                    TransitionRequest(to=Stage.LOST_TO_FOLLOW_UP, reason=reason),
                    by_rule=True,
                )
                report.lost += 1
        uow.commit()


def _climb(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    settings: FollowUpSettings,
    episode: Episode,
    visit: FollowUpVisit,
    step: ReminderStep,
    report: RulesReport,
) -> None:
    """One rung of the ladder. An email rung without an email address on record is passed:
    the call that follows is then the first reminder."""
    patient = uow.patients.get(visit.patient_id)
    clinic = uow.clinics.get(visit.clinic_id)
    if patient is None or clinic is None:
        return
    if step.is_email:
        if patient.email:
            queue_portal_email(
                uow,
                clock,
                new_id,
                settings,
                patient,
                clinic.name,
                visit,
                second=step is ReminderStep.SECOND_EMAIL,
            )
            report.emails += 1
    else:
        call = step is ReminderStep.PHONE_CALL
        task = Task(
            id=new_id(),
            clinic_id=visit.clinic_id,
            kind=TaskKind.FOLLOW_UP_CALL if call else TaskKind.FOLLOW_UP_LETTER,
            title=(
                f"{'Call' if call else 'Write to'} {patient.display_name}:"
                f" {visit.label} check-in not done"
            ),
            reason=(
                f"The {visit.label} questionnaires were due {visit.due_on:%d %b %Y}; the"
                f" window closes {visit.closes_on:%d %b %Y}."
                + (f" Phone: {patient.phone}." if call and patient.phone else "")
            ),
            opened_at=clock.now(),
            patient_id=patient.id,
            visit_id=visit.id,
        )
        uow.tasks.add(task)
        record(uow, clock, AuditAction.CREATE, "task", task.id, task.clinic_id, detail=step)
        if call:
            report.calls += 1
        else:
            report.letters += 1
    visit.reminders_sent += 1
    uow.follow_up.save_visit(visit)
