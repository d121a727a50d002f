"""Responders by MCID (outcomes.md section 2) and the three analyses (section 4)."""

from __future__ import annotations

import math

import duckdb
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from regenpath.adapters.analytics import responder_sql
from regenpath.domain.responders import DEFINITIONS, PRIMARY, analyse

NAN = math.nan
BY_CODE = {d.code: d for d in DEFINITIONS}


def test_the_primary_definition_is_a_30_percent_nrs_reduction_inclusive() -> None:
    assert PRIMARY.code == "nrs-30pct"
    responder, evaluable = PRIMARY.responds([10, 10, 7, 0], [7, 7.5, 5, 0])
    assert list(responder) == [True, False, False, False]  # 10 -> 7 is exactly 30 %: passes
    assert list(evaluable) == [True, True, True, False]  # a baseline of 0 has no percentage


def test_points_and_percent_definitions_at_their_boundaries() -> None:
    cases = {
        "nrs-2pt": ([6, 6], [4, 4.5], [True, False]),
        "nrs-50pct": ([8, 8], [4, 4.5], [True, False]),
        "odi-10pt": ([42.0, 42.0], [32.0, 32.5], [True, False]),
        "odi-30pct": ([40.0, 40.0], [28.0, 28.5], [True, False]),
        "rmdq-5pt": ([12, 12], [7, 8], [True, False]),
    }
    for code, (baseline, follow_up, expected) in cases.items():
        assert list(BY_CODE[code].responds(baseline, follow_up)[0]) == expected, code


def test_odi_boundaries_hold_for_unrounded_scores() -> None:
    # ODI 44.444... -> 31.111... is exactly 30 % of the baseline in exact arithmetic.
    baseline, follow_up = 20 / 45 * 100, 14 / 45 * 100
    assert BY_CODE["odi-30pct"].responds([baseline], [follow_up])[0][0]


def test_the_three_analyses_count_every_patient_once() -> None:
    # 12 treated: 2 not yet due; of the 10 due, 3 missing, 1 with a baseline of 0, 6 evaluable
    # of whom 3 respond.
    baseline = [8, 8, 8, 8, 8, 8, 0, 8, 8, 8, 8, 8]
    follow_up = [2, 3, 5, 7, 8, 9, 0, NAN, NAN, NAN, NAN, NAN]
    due = [True] * 10 + [False] * 2
    result = analyse(PRIMARY, baseline, follow_up, due)
    assert (result.n_due, result.n_evaluable, result.n_not_evaluable) == (10, 6, 1)
    assert (result.n_missing, result.n_not_yet_due, result.responders) == (3, 2, 3)
    assert (result.complete_case.k, result.complete_case.n) == (3, 6)
    assert (result.worst_case.k, result.worst_case.n) == (3, 10)
    assert (result.best_case.k, result.best_case.n) == (6, 10)
    assert result.worst_case.lower is not None and 0 < result.worst_case.lower < 0.3


def test_nobody_due_gives_no_rate_and_no_interval() -> None:
    result = analyse(PRIMARY, [8], [NAN], [False])
    assert result.worst_case.rate is None and result.worst_case.lower is None


@given(
    st.lists(
        st.tuples(
            st.integers(0, 10),
            st.one_of(st.none(), st.integers(0, 10)),
            st.booleans(),
        ),
        min_size=1,
        max_size=80,
    )
)
@settings(max_examples=200, deadline=None)
def test_worst_case_never_exceeds_complete_case_nor_best_case(
    patients: list[tuple[int, int | None, bool]],
) -> None:
    baseline = [b for b, _f, _d in patients]
    follow_up = [NAN if f is None else f for _b, f, _d in patients]
    due = np.array([d for _b, _f, d in patients])
    result = analyse(PRIMARY, baseline, follow_up, due)
    assert result.n_due == result.n_evaluable + result.n_not_evaluable + result.n_missing
    if result.n_due:
        worst, best = result.worst_case.rate, result.best_case.rate
        assert worst is not None and best is not None and worst <= best
        if result.complete_case.rate is not None:
            assert worst <= result.complete_case.rate


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(0, 100).map(float)),
            st.one_of(st.none(), st.integers(0, 100).map(lambda v: v / 2)),
        ),
        min_size=1,
        max_size=40,
    )
)
@settings(max_examples=60, deadline=None)
def test_the_engines_sql_applies_each_definition_exactly_as_the_domain(
    pairs: list[tuple[float | None, float | None]],
) -> None:
    """adapters/analytics.py counts responders in DuckDB; the rule must be the domain's."""
    baseline = np.array([NAN if b is None else b for b, _f in pairs])
    follow_up = np.array([NAN if f is None else f for _b, f in pairs])
    connection = duckdb.connect()
    rows = {
        "baseline_pain": baseline,
        "baseline_odi": baseline,
        "pain": follow_up,
        "odi": follow_up,
    }
    table = {name: np.where(np.isnan(v), None, v).astype(object) for name, v in rows.items()}
    connection.register("v", {name: np.array(v, dtype=object) for name, v in table.items()})
    for definition in DEFINITIONS:
        sql = responder_sql(definition)
        if sql is None:
            continue
        evaluable, responds = sql
        found = connection.execute(
            f"SELECT coalesce({evaluable}, false), coalesce({responds}, false) FROM v"
        ).fetchall()
        responder, is_evaluable = definition.responds(baseline, follow_up)
        assert [bool(e) for e, _r in found] == list(is_evaluable), definition.code
        assert [bool(r) for _e, r in found] == list(responder), definition.code
