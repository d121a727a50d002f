""" "What to expect" (issue 5 item 6): the worst-case responder rate, adverse events and the
price, for patients like the person, each suppressed below 10 patients."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np

from regenpath.domain.responders import age_band
from regenpath.services.outcomes import (
    MIN_PATIENTS,
    VISIT_COLUMNS,
    expectation_for,
    what_to_expect,
)

AS_OF = date(2027, 6, 1)


class FakeSource:
    """The analytic relations as numpy arrays, filtered like the DuckDB adapter filters."""

    def __init__(
        self,
        cohort: dict[str, list[Any]],
        visits: dict[str, list[Any]],
        events: dict[str, list[Any]],
    ) -> None:
        self.relations = {
            "cohort": {k: np.array(v) for k, v in cohort.items()},
            "visits": {k: np.array(v) for k, v in visits.items()},
            "events": {k: np.array(v) for k, v in events.items()},
        }

    def columns(
        self,
        relation: str,
        names: Sequence[str],
        filters: Mapping[str, str] | None = None,
        clinic_ids: Collection[UUID] | None = None,
    ) -> dict[str, Any]:
        cohort = self.relations["cohort"]
        keep = np.ones(len(cohort["episode_id"]), dtype=bool)
        for name, value in (filters or {}).items():
            keep &= cohort[name] == value
        chosen = set(cohort["episode_id"][keep].tolist())
        table = self.relations[relation]
        rows = np.isin(table["episode_id"], list(chosen))
        return {name: table[name][rows] for name in names}

    def strata_values(self, clinic_ids: Collection[UUID] | None = None) -> dict[str, list[str]]:
        return {}

    def export_deidentified(
        self, folder: Path, file_format: str, clinic_ids: Collection[UUID] | None = None
    ) -> dict[str, int]:
        raise NotImplementedError


def registry(knees: int, spines: int) -> FakeSource:
    """Knees: baseline pain 8; two in three answered at 12 months, half of those at 4
    (a responder); the price 4,000 to 4,000 + 100 x n. Spines: nobody answered."""
    cohort: dict[str, list[Any]] = {
        k: []
        for k in (
            "episode_id",
            "target",
            "condition",
            "age_band",
            "baseline_pain",
            "baseline_odi",
            "price",
            "currency",
        )
    }
    visits: dict[str, list[Any]] = {k: [] for k in VISIT_COLUMNS}
    events: dict[str, list[Any]] = {"episode_id": [], "serious": []}
    for n in range(knees + spines):
        knee = n < knees
        episode = f"e{n:03d}"
        for key, value in (
            ("episode_id", episode), ("target", "knee" if knee else "spine"),
            ("condition", "M17" if knee else "M51"), ("age_band", age_band(55)),
            ("baseline_pain", 8.0), ("baseline_odi", np.nan), ("price", 4000.0 + 100 * n),
            ("currency", "USD"),
        ):  # fmt: skip
            cohort[key].append(value)
        answered = knee and n % 3 != 0
        pain = (4.0 if n % 2 == 0 else 7.0) if answered else np.nan
        for key, value in (
            ("episode_id", episode), ("sequence", 5), ("label", "12 months"), ("day", 365),
            ("closes_on", np.datetime64("2027-01-01")), ("completed", answered), ("pain", pain),
            ("odi", np.nan), ("rmdq", np.nan),
        ):  # fmt: skip
            visits[key].append(value)
        if knee and n < 3:
            events["episode_id"].append(episode)
            events["serious"].append(n == 0)
    return FakeSource(cohort, visits, events)


def test_a_large_enough_group_gets_the_worst_case_rate_adverse_events_and_the_price() -> None:
    expectation = what_to_expect(registry(knees=12, spines=0), AS_OF, {"target": "knee"})
    assert expectation.n_treated == 12 and expectation.time_point == "12 months"
    responders = expectation.responders
    assert responders is not None and (responders.k, responders.n) == (4, 12)  # 4 of 12 due
    assert expectation.any_adverse_event is not None and expectation.any_adverse_event.k == 3
    assert expectation.serious_adverse_event is not None
    assert expectation.serious_adverse_event.k == 1
    assert expectation.price_range == (4000.0, 5100.0, "USD")


def test_fewer_than_ten_patients_give_no_figure_at_all() -> None:
    expectation = what_to_expect(
        registry(knees=MIN_PATIENTS - 1, spines=0), AS_OF, {"target": "knee"}
    )
    assert expectation.suppressed and expectation.n_treated == MIN_PATIENTS - 1
    assert expectation.any_adverse_event is None and expectation.price_range is None


def test_the_narrowest_group_with_enough_patients_is_chosen() -> None:
    source = registry(knees=12, spines=5)
    narrow = {"target": "knee", "condition": "M17", "age_band": "40-49"}  # nobody
    found = expectation_for(source, AS_OF, [narrow, {"target": "knee"}])
    assert found.like == {"target": "knee"} and not found.suppressed
    spines = expectation_for(source, AS_OF, [{"target": "spine"}])
    assert spines.suppressed and spines.n_treated == 5
