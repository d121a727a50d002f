"""The follow-up schedule of a treatment cycle, its time points' status, the reminder ladder,
and the lost-to-follow-up rule.

FU-1 (docs/rules.md): visits at 2 weeks, 6 weeks, 3, 6, 12 and 24 months, then annually,
anchored on the injection. FU-4: a repeat treatment is a new cycle with a schedule of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from regenpath.domain.errors import InvalidValue
from regenpath.domain.instruments import Instrument, score

# FU-1, written the way a clinic writes it: "2w" weeks, "3m" months, "yearly to 5y".
DEFAULT_SCHEDULE = "2w, 6w, 3m, 6m, 12m, 24m, yearly to 5y"
# FU-1's "N consecutive missed" default (issue 8): two missed visits in a row.
DEFAULT_MISSED_FOR_LOST = 2

DAYS_PER_MONTH = 365.25 / 12
_DAYS_PER = {"d": 1, "w": 7, "m": DAYS_PER_MONTH, "y": 365.25}
_OFFSET = re.compile(r"^(\d{1,3})([dwmy])$")
_YEARLY = re.compile(r"^yearly to (\d{1,2})y$")


class VisitStatus(StrEnum):
    UPCOMING = "upcoming"  # the window has not opened
    DUE = "due"  # the window is open and the target day not passed
    LATE = "late"  # past the target day, the window still open
    COMPLETED = "completed"
    MISSED = "missed"  # the window closed without the questionnaires


@dataclass(frozen=True)
class TimePoint:
    label: str  # "6 weeks", "12 months"
    days: int  # after the injection
    opens_before: int  # days before the target the window opens
    closes_after: int  # days after the target the window closes


def _window(days: int) -> tuple[int, int]:
    """Windows widen with the distance from the injection, as trial protocols do (a few days
    at 2 weeks, a month or two at a year): about a quarter of the interval either side."""
    if days <= 14:
        return 3, 7
    if days <= 42:
        return 7, 14
    if days <= 91:
        return 14, 28
    if days <= 183:
        return 28, 42
    return 42, 90


def _label(amount: int, unit: str) -> str:
    word = {"d": "day", "w": "week", "m": "month", "y": "year"}[unit]
    return f"{amount} {word}{'s' if amount != 1 else ''}"


def parse_schedule(text: str, field: str = "follow_up_schedule") -> tuple[TimePoint, ...]:
    """Time points from their written form (``DEFAULT_SCHEDULE``); refuses a malformed one."""
    points: list[TimePoint] = []
    for part in (p.strip().lower() for p in text.split(",") if p.strip()):
        if yearly := _YEARLY.match(part):
            last = points[-1].days if points else 0
            for year in range(1, int(yearly.group(1)) + 1):
                days = round(year * _DAYS_PER["y"])
                if days > last:
                    points.append(TimePoint(_label(year, "y"), days, *_window(days)))
            continue
        offset = _OFFSET.match(part)
        if offset is None:
            raise InvalidValue(field, f"{part!r} is not like 2w, 3m, 1y or 'yearly to 5y'")
        amount, unit = int(offset.group(1)), offset.group(2)
        days = round(amount * _DAYS_PER[unit])
        if points and days <= points[-1].days:
            raise InvalidValue(field, f"{part!r} does not come after {points[-1].label}")
        points.append(TimePoint(_label(amount, unit), days, *_window(days)))
    if not points:
        raise InvalidValue(field, "name at least one time point")
    return tuple(points)


@dataclass(frozen=True)
class SchedulePolicy:
    """The clinic's schedules: a default, and others for conditions by ICD-10-CM prefix."""

    default: tuple[TimePoint, ...]
    by_condition: tuple[tuple[str, tuple[TimePoint, ...]], ...] = ()

    @classmethod
    def parse(cls, default: str, by_condition: dict[str, str]) -> SchedulePolicy:
        conditions = tuple(
            sorted(
                (
                    (prefix.upper().replace(".", ""), parse_schedule(text, f"schedule {prefix}"))
                    for prefix, text in by_condition.items()
                ),
                key=lambda entry: -len(entry[0]),  # the most specific prefix wins
            )
        )
        return cls(parse_schedule(default), conditions)

    def for_condition(self, condition_code: str) -> tuple[TimePoint, ...]:
        code = condition_code.upper().replace(".", "")
        for prefix, points in self.by_condition:
            if code.startswith(prefix):
                return points
        return self.default


@dataclass
class FollowUpVisit:
    """One time point of one treatment cycle's schedule."""

    id: UUID
    clinic_id: UUID
    episode_id: UUID
    patient_id: UUID
    cycle_number: int
    sequence: int
    label: str
    due_on: date
    opens_on: date
    closes_on: date
    completed_at: datetime | None = None
    reminders_sent: int = 0  # rungs of the ladder climbed
    cancelled: bool = False  # a repeat cycle replaced what was left of this schedule

    def status(self, today: date) -> VisitStatus:
        if self.completed_at is not None:
            return VisitStatus.COMPLETED
        if today < self.opens_on:
            return VisitStatus.UPCOMING
        if today <= self.due_on:
            return VisitStatus.DUE
        if today <= self.closes_on:
            return VisitStatus.LATE
        return VisitStatus.MISSED

    def next_reminder(self, today: date) -> ReminderStep | None:
        """The ladder's next rung if its day has come; it stops once the questionnaires are
        in or the window has closed. One rung per call, so a worker that was down climbs
        back one step at a time instead of sending everything at once."""
        if self.cancelled or self.status(today) not in (VisitStatus.DUE, VisitStatus.LATE):
            return None
        if self.reminders_sent >= len(LADDER):
            return None
        step = LADDER[self.reminders_sent]
        return step if today >= self.rung_day(step) else None

    def rung_day(self, step: ReminderStep) -> date:
        if step is ReminderStep.FIRST_EMAIL:
            return self.opens_on
        if step is ReminderStep.SECOND_EMAIL:
            return max(self.opens_on + timedelta(days=2), self.due_on)
        if step is ReminderStep.PHONE_CALL:
            return self.due_on + timedelta(days=3)
        return self.due_on + timedelta(days=6)


class ReminderStep(StrEnum):
    """The escalation ladder of one time point (issue 8): an email when the window opens, a
    second on the target day, then a call by the coordinator, then a letter."""

    FIRST_EMAIL = "first_email"
    SECOND_EMAIL = "second_email"
    PHONE_CALL = "phone_call"
    LETTER = "letter"

    @property
    def is_email(self) -> bool:
        return self in (ReminderStep.FIRST_EMAIL, ReminderStep.SECOND_EMAIL)


LADDER: tuple[ReminderStep, ...] = tuple(ReminderStep)


def schedule_visits(
    *,
    new_id: Callable[[], UUID],
    clinic_id: UUID,
    episode_id: UUID,
    patient_id: UUID,
    cycle_number: int,
    injected_on: date,
    points: Sequence[TimePoint],
) -> list[FollowUpVisit]:
    """The visits of one cycle, anchored on its injection day (FU-1)."""
    return [
        FollowUpVisit(
            id=new_id(),
            clinic_id=clinic_id,
            episode_id=episode_id,
            patient_id=patient_id,
            cycle_number=cycle_number,
            sequence=index,
            label=point.label,
            due_on=injected_on + timedelta(days=point.days),
            opens_on=injected_on + timedelta(days=point.days - point.opens_before),
            closes_on=injected_on + timedelta(days=point.days + point.closes_after),
        )
        for index, point in enumerate(points, start=1)
    ]


def missed_in_a_row(visits: Sequence[FollowUpVisit], today: date) -> int:
    """Missed time points since the last completed one, in schedule order."""
    count = 0
    for visit in sorted(visits, key=lambda v: (v.cycle_number, v.due_on)):
        if visit.cancelled:
            continue
        status = visit.status(today)
        if status is VisitStatus.COMPLETED:
            count = 0
        elif status is VisitStatus.MISSED:
            count += 1
    return count


def is_lost(visits: Sequence[FollowUpVisit], today: date, threshold: int) -> bool:
    """Lost to follow-up: ``threshold`` consecutive missed time points (issue 8, default 2);
    a completed questionnaire later resets the count, so the patient comes back."""
    return missed_in_a_row(visits, today) >= threshold


@dataclass
class QuestionnaireResponse:
    """One instrument filled in for one time point; resumable until completed.

    ``answers`` holds the box ticked per item (the highest where several were); the scores
    are computed when it is completed and kept beside the answers, with the instrument's
    version, so a later change of scoring never rewrites a stored result silently.
    """

    id: UUID
    clinic_id: UUID
    patient_id: UUID
    episode_id: UUID
    visit_id: UUID | None
    instrument: str
    instrument_version: str
    answers: dict[str, int]
    started_at: datetime
    updated_at: datetime
    entered_by: str  # "patient" on the portal, or the member of staff who typed it in
    completed_at: datetime | None = None
    scores: dict[str, float | None] | None = None

    @classmethod
    def begin(
        cls, id: UUID, visit: FollowUpVisit, instrument: Instrument, now: datetime, by: str
    ) -> QuestionnaireResponse:
        """An empty response to ``instrument`` for ``visit``, started ``now``."""
        return cls(
            id=id,
            clinic_id=visit.clinic_id,
            patient_id=visit.patient_id,
            episode_id=visit.episode_id,
            visit_id=visit.id,
            instrument=instrument.code.value,
            instrument_version=instrument.version,
            answers={},
            started_at=now,
            updated_at=now,
            entered_by=by,
        )

    def complete(self, instrument: Instrument, now: datetime) -> None:
        """Score the answers and close the response (docs/rules.md's rules)."""
        self.completed_at, self.updated_at = now, now
        self.scores = score(instrument, self.answers).values
