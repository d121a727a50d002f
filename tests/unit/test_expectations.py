""" "What to expect" (issue 5 item 6): the worst-case responder rate, adverse events and the
price, for patients like the person, each suppressed below 10 patients. A small registry is
written as a snapshot and read by the real engine."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

from regenpath.adapters.analytics import OutcomeData, write_snapshot
from regenpath.domain.responders import age_band
from regenpath.services.outcomes import MIN_PATIENTS, expectation_for, what_to_expect

AS_OF = date(2027, 6, 1)


def registry(tmp_path: Path, knees: int, spines: int) -> OutcomeData:
    """Knees: baseline pain 8; two in three answered at 12 months, half of those at 4
    (a responder); prices 4,000 + 100 x n; the first three had a flare, the first a serious
    event. Spines: nobody answered."""
    n = knees + spines
    index = np.arange(n)
    knee = index < knees
    ids = np.array([f"e{i:03d}" for i in range(n)])
    answered = knee & (index % 3 != 0)
    pain = np.where(answered, np.where(index % 2 == 0, 4.0, 7.0), np.nan)
    flagged = knee & (index < 3)
    m = int(flagged.sum())
    relations = {
        "flow": {
            "episode_id": ids, "clinic_id": np.full(n, "c1"), "stage": np.full(n, "follow_up"),
            "evaluated": np.ones(n, bool), "eligible": np.ones(n, bool),
            "treated": np.ones(n, bool),
        },
        "cohort": {
            "episode_id": ids, "clinic_id": np.full(n, "c1"), "stage": np.full(n, "follow_up"),
            "clinic": np.full(n, "Clinic"), "condition": np.where(knee, "M17", "M51"),
            "target": np.where(knee, "knee", "spine"), "cell_source": np.full(n, "allogeneic"),
            "age_band": np.full(n, age_band(55)), "smoking": np.full(n, "never"),
            "practitioner": np.full(n, "Physician"), "age": np.full(n, 55),
            "sex": np.full(n, "female"), "injected_on": np.full(n, np.datetime64("2026-01-01")),
            "baseline_pain": np.full(n, 8.0), "baseline_odi": np.full(n, np.nan),
            "price": 4000.0 + 100 * index, "currency": np.full(n, "USD"),
        },
        "visits": {
            "episode_id": ids, "sequence": np.full(n, 5), "label": np.full(n, "12 months"),
            "day": np.full(n, 365), "closes_on": np.full(n, np.datetime64("2027-01-01")),
            "completed": answered, "answered_day": np.where(answered, 365.0, np.nan),
            "pain": pain, "odi": np.full(n, np.nan), "rmdq": np.full(n, np.nan),
        },
        "events": {
            "episode_id": ids[flagged], "term_code": np.full(m, "POST_FLARE"),
            "grade": np.ones(m, np.int64), "serious": ids[flagged] == "e000",
            "related_product": np.full(m, "probable"), "related_injection": np.full(m, "probable"),
            "onset_day": np.ones(m, np.int64),
        },
    }  # fmt: skip
    folder = tmp_path / f"registry-{knees}-{spines}"
    write_snapshot([relations], folder)
    return OutcomeData.snapshot(folder)


def test_a_large_enough_group_gets_the_worst_case_rate_adverse_events_and_the_price(
    tmp_path: Path,
) -> None:
    expectation = what_to_expect(registry(tmp_path, 12, 0), AS_OF, {"target": "knee"})
    assert expectation.n_treated == 12 and expectation.time_point == "12 months"
    responders = expectation.responders
    assert responders is not None and (responders.k, responders.n) == (4, 12)  # 4 of 12 due
    assert expectation.any_adverse_event is not None and expectation.any_adverse_event.k == 3
    assert expectation.serious_adverse_event is not None
    assert expectation.serious_adverse_event.k == 1
    assert expectation.price_range == (4000.0, 5100.0, "USD")


def test_fewer_than_ten_patients_give_no_figure_at_all(tmp_path: Path) -> None:
    small = registry(tmp_path, MIN_PATIENTS - 1, 0)
    expectation = what_to_expect(small, AS_OF, {"target": "knee"})
    assert expectation.suppressed and expectation.n_treated == MIN_PATIENTS - 1
    assert expectation.any_adverse_event is None and expectation.price_range is None


def test_the_narrowest_group_with_enough_patients_is_chosen(tmp_path: Path) -> None:
    source = registry(tmp_path, 12, 5)
    narrow = {"target": "knee", "condition": "M17", "age_band": "40-49"}  # nobody
    found = expectation_for(source, AS_OF, [narrow, {"target": "knee"}])
    assert found.like == {"target": "knee"} and not found.suppressed
    spines = expectation_for(source, AS_OF, [{"target": "spine"}])
    assert spines.suppressed and spines.n_treated == 5
