"""The follow-up schedule (FU-1), its statuses, the reminder ladder, lost to follow-up, and
the recovery plan (RCV-1)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regenpath.domain.assessment import Assessment, SmokingStatus, TargetRegion
from regenpath.domain.errors import InvalidValue
from regenpath.domain.followup import (
    DEFAULT_SCHEDULE,
    FollowUpVisit,
    ReminderStep,
    SchedulePolicy,
    VisitStatus,
    is_lost,
    parse_schedule,
    schedule_visits,
)
from regenpath.domain.recovery import recovery_plan

INJECTED = date(2026, 3, 2)
CLINIC, EPISODE, PATIENT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def visits(text: str = DEFAULT_SCHEDULE) -> list[FollowUpVisit]:
    return schedule_visits(
        new_id=uuid.uuid4,
        clinic_id=CLINIC,
        episode_id=EPISODE,
        patient_id=PATIENT,
        cycle_number=1,
        injected_on=INJECTED,
        points=parse_schedule(text),
    )


def test_fu1_default_schedule_runs_2_weeks_to_24_months_then_yearly() -> None:
    labels = [v.label for v in visits()]
    assert labels == [
        "2 weeks", "6 weeks", "3 months", "6 months", "12 months", "24 months",
        "3 years", "4 years", "5 years",
    ]  # fmt: skip
    assert visits()[0].due_on == INJECTED + timedelta(days=14)


def test_each_time_point_has_a_window_around_its_target_day() -> None:
    for visit in visits():
        assert visit.opens_on < visit.due_on < visit.closes_on


def test_a_schedule_out_of_order_or_malformed_is_refused() -> None:
    with pytest.raises(InvalidValue):
        parse_schedule("3m, 6w")
    with pytest.raises(InvalidValue):
        parse_schedule("soon")


def test_a_condition_prefix_picks_its_own_schedule() -> None:
    policy = SchedulePolicy.parse(DEFAULT_SCHEDULE, {"M17": "6w, 3m", "M17.1": "1y"})
    assert [p.label for p in policy.for_condition("M17.11")] == ["1 year"]
    assert [p.label for p in policy.for_condition("M17.0")] == ["6 weeks", "3 months"]
    assert policy.for_condition("M51.36") == policy.default


def test_status_moves_upcoming_due_late_missed() -> None:
    visit = visits()[0]
    assert visit.status(visit.opens_on - timedelta(days=1)) is VisitStatus.UPCOMING
    assert visit.status(visit.opens_on) is VisitStatus.DUE
    assert visit.status(visit.due_on) is VisitStatus.DUE
    assert visit.status(visit.due_on + timedelta(days=1)) is VisitStatus.LATE
    assert visit.status(visit.closes_on) is VisitStatus.LATE
    assert visit.status(visit.closes_on + timedelta(days=1)) is VisitStatus.MISSED
    visit.completed_at = datetime(2026, 3, 15, tzinfo=UTC)
    assert visit.status(visit.closes_on + timedelta(days=1)) is VisitStatus.COMPLETED


def test_the_ladder_climbs_email_email_call_letter_one_rung_at_a_time() -> None:
    visit = visits()[1]  # 6 weeks
    climbed: list[ReminderStep] = []
    day = visit.opens_on - timedelta(days=1)
    while day <= visit.closes_on + timedelta(days=3):
        step = visit.next_reminder(day)
        if step is not None:
            climbed.append(step)
            visit.reminders_sent += 1
        day += timedelta(days=1)
    assert climbed == list(ReminderStep)


def test_the_ladder_stops_once_the_questionnaires_are_in() -> None:
    visit = visits()[1]
    visit.reminders_sent = 1
    visit.completed_at = datetime(2026, 4, 10, tzinfo=UTC)
    assert visit.next_reminder(visit.due_on + timedelta(days=5)) is None


def test_two_missed_in_a_row_is_lost_and_a_completed_one_resets() -> None:
    schedule = visits()
    after_second = schedule[1].closes_on + timedelta(days=1)
    assert is_lost(schedule, after_second, threshold=2)
    assert not is_lost(schedule, after_second, threshold=3)
    schedule[1].completed_at = datetime(2026, 4, 12, tzinfo=UTC)
    assert not is_lost(schedule, after_second, threshold=2)


@given(st.integers(0, 2000), st.integers(1, 4))
def test_lost_only_after_as_many_closed_windows(days: int, threshold: int) -> None:
    schedule = visits()
    today = INJECTED + timedelta(days=days)
    closed = sum(v.closes_on < today for v in schedule)
    assert is_lost(schedule, today, threshold) == (closed >= threshold)


def test_rcv1_no_nsaids_for_two_weeks_and_the_patients_nsaid_is_named() -> None:
    assessment = Assessment(region=TargetRegion.SPINE, medications=("5640", "17767"))
    plan = recovery_plan(
        episode_id=EPISODE,
        cycle_number=1,
        injected_on=INJECTED,
        region=TargetRegion.SPINE,
        assessment=assessment,
        nsaid_codes={"5640", "7258"},
    )
    assert plan.no_nsaids_until == INJECTED + timedelta(days=14)
    assert len(plan.nsaid_warnings) == 1
    assert plan.nsaid_warnings[0].startswith("Ibuprofen is an NSAID")
    assert plan.phase_on(INJECTED).title.startswith("Rest")  # type: ignore[union-attr]
    assert plan.phase_on(INJECTED + timedelta(days=21)).title.startswith("Light")  # type: ignore[union-attr]
    assert plan.phase_on(INJECTED + timedelta(days=40)).title.startswith("Return")  # type: ignore[union-attr]


def test_lifestyle_advice_comes_from_the_patients_own_assessment() -> None:
    smoker = Assessment(
        region=TargetRegion.KNEE, smoking=SmokingStatus.CURRENT, height_cm=170, weight_kg=95
    )
    plan = recovery_plan(
        episode_id=EPISODE,
        cycle_number=1,
        injected_on=INJECTED,
        region=TargetRegion.KNEE,
        assessment=smoker,
        nsaid_codes=set(),
    )
    text = " ".join(plan.lifestyle)
    assert "Smoking" in text
    assert "BMI 33" in text
    unknown = recovery_plan(
        episode_id=EPISODE,
        cycle_number=1,
        injected_on=INJECTED,
        region=TargetRegion.KNEE,
        assessment=None,
        nsaid_codes=set(),
    )
    assert not any("Smoking" in line or "BMI" in line for line in unknown.lifestyle)
