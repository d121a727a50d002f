"""Safety signals: Wilson's interval against statsmodels, and the CUSUM on a synthetic
registry (issue 9: one lot at five times the baseline infection rate)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from regenpath.domain.signals import Administration, Cusum, signals, wilson_interval

INFECTION_BASELINE = 0.0017  # AE-5 catalogue: INFECTION
LOTS, PER_LOT = 10, 2_000


@given(st.integers(1, 5_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_matches_statsmodels(case: tuple[int, int]) -> None:
    events, n = case
    ours = wilson_interval(events, n)
    reference = proportion_confint(events, n, alpha=0.05, method="wilson")
    assert ours == pytest.approx(reference, abs=1e-12)


def registry(rng: random.Random, hot_lot: int | None) -> list[list[bool]]:
    """Each lot's administrations in order: True where a serious related infection followed."""
    return [
        [rng.random() < INFECTION_BASELINE * (5 if lot == hot_lot else 1) for _ in range(PER_LOT)]
        for lot in range(LOTS)
    ]


def test_AE_5_a_lot_at_five_times_the_baseline_raises_an_alert_and_no_other_lot_does() -> None:
    cusum = Cusum(INFECTION_BASELINE, ratio=5.0, threshold=7.0)
    lots = registry(random.Random(2026), hot_lot=3)
    alarms = {lot: cusum.alarm_at(outcomes) for lot, outcomes in enumerate(lots)}
    assert [lot for lot, at in alarms.items() if at is not None] == [3]
    print(f"hot lot alert after {alarms[3]} administrations ({sum(lots[3][: alarms[3]])} events)")


def test_AE_5_false_alerts_over_100_clean_registries_stay_rare() -> None:
    cusum = Cusum(INFECTION_BASELINE, ratio=5.0, threshold=7.0)
    rng = random.Random(7)
    false = sum(
        any(cusum.alarm_at(outcomes) is not None for outcomes in registry(rng, hot_lot=None))
        for _ in range(100)
    )
    print(f"registries with a false alert: {false} of 100")
    assert false <= 10


def test_signals_group_by_lot_donor_clinic_and_practitioner() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clinic = UUID(int=1)
    given_ = [
        Administration(
            product_id=UUID(int=100 + i),
            clinic_id=clinic,
            administered_at=start + timedelta(days=i),
            operator="Dr A" if i % 2 else "Dr B",
            clinic_name="Riverside",
            lot_number="LOT-HOT" if i < 8 else "LOT-OK",
        )
        for i in range(20)
    ]
    flagged = {UUID(int=100 + i) for i in (0, 1, 2, 3, 4, 5)}  # six in a row from LOT-HOT
    found = signals(given_, flagged, Cusum(0.0055, ratio=5.0, threshold=7.0))
    alerts = {(s.kind, s.label) for s in found if s.alert}
    assert ("lot", "LOT-HOT") in alerts
    assert ("lot", "LOT-OK") not in alerts
    hot = next(s for s in found if s.label == "LOT-HOT")
    assert (hot.events, hot.administrations, hot.last.product_id) == (6, 8, UUID(int=107))
    assert {s.kind for s in found} == {"lot", "clinic", "practitioner"}
