"""regenpath.stats against published values (cited per test), R's output as outcomes.md shows
it, and the reference libraries (lifelines, statsmodels) on random data.

Tolerances: published tables are given to 3 or 4 decimals, so they are compared to half a unit
of their last place; the libraries to 1e-9 (the same arithmetic, in another order).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test as lifelines_logrank
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times
from scipy.stats import chi2 as scipy_chi2
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from regenpath import stats

# Freireich et al. 1963 (Gehan 1965): weeks in remission, 6-MP arm and placebo arm.
SIX_MP = [6, 6, 6, 7, 10, 13, 16, 22, 23, 6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35]
SIX_MP_EVENT = [True] * 9 + [False] * 12
PLACEBO = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]


def random_cohort(seed: int, n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Integer times (so ties happen, and events tie with censorings) and about 30 % censored."""
    rng = np.random.default_rng(seed)
    return rng.integers(1, 40, size=n).astype(float), rng.random(n) > 0.3


# -- Wilson and Newcombe --------------------------------------------------------------------------


def test_wilson_edges_are_exact_and_an_empty_denominator_has_no_interval() -> None:
    assert stats.wilson_interval(0, 10)[0] == 0.0
    assert stats.wilson_interval(10, 10)[1] == 1.0
    lower, upper = stats.wilson_interval(0, 0)
    assert math.isnan(lower) and math.isnan(upper)


def test_wilson_matches_newcombes_table_one() -> None:
    """Newcombe, Stat Med 1998;17:857-872, Table II, method 3: 81/263 -> 0.2553 to 0.3662."""
    lower, upper = stats.wilson_interval(81, 263)
    assert (round(lower, 4), round(upper, 4)) == (0.2553, 0.3662)


def test_wilson_matches_statsmodels_on_arrays() -> None:
    rng = np.random.default_rng(4)
    n = rng.integers(1, 500, size=300)
    k = rng.integers(0, n + 1)
    lower, upper = stats.wilson_interval(k, n, level=0.9)
    ref_lower, ref_upper = proportion_confint(k, n, alpha=0.1, method="wilson")
    np.testing.assert_allclose(lower, ref_lower, atol=1e-9)
    np.testing.assert_allclose(upper, ref_upper, atol=1e-9)


def test_newcombe_method_10_matches_the_paper_and_statsmodels() -> None:
    """Newcombe, Stat Med 1998;17:873-890, Table II example (a): 56/70 - 48/80 = 0.2000,
    method 10: 0.0524 to 0.3339."""
    estimate, lower, upper = stats.newcombe_difference(56, 70, 48, 80)
    assert (round(estimate, 4), round(lower, 4), round(upper, 4)) == (0.2, 0.0524, 0.3339)
    rng = np.random.default_rng(10)
    for _ in range(50):
        n1, n2 = rng.integers(5, 300, size=2)
        k1, k2 = rng.integers(0, n1 + 1), rng.integers(0, n2 + 1)
        ours = stats.newcombe_difference(k1, n1, k2, n2)
        ref = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
        np.testing.assert_allclose(ours[1:], ref, atol=1e-9)


def test_newcombe_without_patients_has_no_interval() -> None:
    assert all(math.isnan(v) for v in stats.newcombe_difference(3, 10, 0, 0))


@given(st.integers(0, 400), st.integers(0, 400))
@settings(max_examples=200, deadline=None)
def test_wilson_always_holds_the_estimate_within_zero_and_one(k: int, extra: int) -> None:
    n = k + extra
    if n == 0:
        return
    lower, upper = stats.wilson_interval(k, n)
    assert 0.0 <= lower <= k / n <= upper <= 1.0


# -- Kaplan-Meier ----------------------------------------------------------------------------------


def test_KM_6MP_arm_matches_R_summary_survfit_with_log_bands() -> None:
    """outcomes.md section 3: R ``summary(survfit(Surv(time, status) ~ 1))``, 6-MP arm."""
    table = stats.kaplan_meier(SIX_MP, SIX_MP_EVENT, conf_type="log")
    r = [
        (6, 21, 3, 0.857, 0.0764, 0.720, 1.000),
        (7, 17, 1, 0.807, 0.0869, 0.653, 0.996),
        (10, 15, 1, 0.753, 0.0963, 0.586, 0.968),
        (13, 12, 1, 0.690, 0.1068, 0.510, 0.935),
        (16, 11, 1, 0.627, 0.1141, 0.439, 0.896),
        (22, 7, 1, 0.538, 0.1282, 0.337, 0.858),
        (23, 6, 1, 0.448, 0.1346, 0.249, 0.807),
    ]
    assert len(table) == len(r)
    for row, (t, n, d, s, se, lo, hi) in zip(table, r, strict=True):
        assert (row["time"], row["at_risk"], row["events"]) == (t, n, d)
        assert abs(row["survival"] - s) <= 0.0005
        assert abs(row["std_err"] - se) <= 0.00005
        assert abs(row["ci_lower"] - lo) <= 0.0005
        assert abs(row["ci_upper"] - hi) <= 0.0005
    # 6+ ties with the three relapses at week 6: censored there, still at risk there.
    assert list(table["censored"]) == [1, 0, 2, 1, 0, 3, 0]


@pytest.mark.parametrize("seed", range(6))
def test_KM_matches_statsmodels_greenwood_and_lifelines_log_log_bands(seed: int) -> None:
    durations, observed = random_cohort(seed)
    table = stats.kaplan_meier(durations, observed)
    reference = SurvfuncRight(durations, observed.astype(int))
    np.testing.assert_array_equal(table["time"], reference.surv_times)
    np.testing.assert_array_equal(table["at_risk"], reference.n_risk)
    np.testing.assert_array_equal(table["events"], reference.n_events)
    np.testing.assert_allclose(table["survival"], reference.surv_prob, atol=1e-12)
    finite = np.isfinite(table["std_err"])
    np.testing.assert_allclose(table["std_err"][finite], reference.surv_prob_se[finite], atol=1e-12)

    fitter = KaplanMeierFitter().fit(durations, observed)
    bands = fitter.confidence_interval_survival_function_.loc[table["time"]].to_numpy()
    ok = np.isfinite(table["ci_lower"])
    np.testing.assert_allclose(table["ci_lower"][ok], bands[ok, 0], atol=1e-9)
    np.testing.assert_allclose(table["ci_upper"][ok], bands[ok, 1], atol=1e-9)


def test_KM_where_survival_reaches_zero_has_no_standard_error_nor_band() -> None:
    table = stats.kaplan_meier([1, 2, 3], [True, True, True], conf_type="log")
    assert table["survival"][-1] == 0.0
    assert math.isnan(table["std_err"][-1]) and math.isnan(table["ci_lower"][-1])


def test_KM_refuses_a_negative_time_or_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        stats.kaplan_meier([-1, 2], [True, False])
    with pytest.raises(ValueError, match="equal length"):
        stats.kaplan_meier([1, 2], [True])
    with pytest.raises(ValueError, match="conf_type"):
        stats.kaplan_meier([1, 2], [True, False], conf_type="arcsine")  # type: ignore[arg-type]


@given(
    st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=60),
    st.sampled_from(["log-log", "log", "plain"]),
)
@settings(max_examples=150, deadline=None)
def test_KM_survival_never_rises_and_its_band_holds_it(
    subjects: list[tuple[int, bool]], conf_type: stats.ConfType
) -> None:
    durations, observed = zip(*subjects, strict=True)
    table = stats.kaplan_meier(durations, observed, conf_type)
    s = table["survival"]
    assert np.all(np.diff(s) <= 0) and np.all((s >= 0) & (s <= 1))
    ok = np.isfinite(table["ci_lower"])
    assert np.all(table["ci_lower"][ok] <= s[ok] + 1e-12)
    assert np.all(s[ok] <= table["ci_upper"][ok] + 1e-12)
    assert table["events"].sum() == sum(observed)


# -- medians ---------------------------------------------------------------------------------------


def test_median_of_the_6MP_arm_is_Rs_23_weeks_with_lower_limit_16_and_no_upper() -> None:
    """R: ``survfit`` 6-MP arm, log band: median 23, 0.95LCL 16, 0.95UCL NA."""
    assert stats.median_survival(SIX_MP, SIX_MP_EVENT, conf_type="log") == (23.0, 16.0, None)


def test_a_curve_at_exactly_one_half_takes_the_middle_of_the_interval() -> None:
    """R ``quantile.survfit``: S = 0.5 on [2, 4) -> the median is 3."""
    median, _lower, _upper = stats.median_survival([1, 2, 4, 5], [False, True, True, True])
    assert stats.median_survival([2, 4], [True, True])[0] == 3.0
    assert median == 4.0  # 2/3, then 1/3: never exactly one half


@pytest.mark.parametrize("seed", range(6))
def test_median_and_its_limits_match_lifelines_log_log(seed: int) -> None:
    durations, observed = random_cohort(seed, n=200)
    fitter = KaplanMeierFitter().fit(durations, observed)
    ours = stats.median_survival(durations, observed, conf_type="log-log")
    limits = median_survival_times(fitter.confidence_interval_)
    assert ours[0] == fitter.median_survival_time_
    lower, upper = limits.iloc[0, 0], limits.iloc[0, 1]
    assert ours[1] == lower
    assert (ours[2] if ours[2] is not None else math.inf) == upper


def test_reverse_km_gives_the_median_potential_follow_up() -> None:
    """Schemper & Smith 1996: the censorings are the events; matches lifelines fitted so."""
    durations, observed = random_cohort(3, n=150)
    reference = KaplanMeierFitter().fit(durations, ~observed).median_survival_time_
    assert stats.reverse_km_median_followup(durations, observed) == reference


# -- log-rank --------------------------------------------------------------------------------------


def test_logrank_6MP_against_placebo_is_Rs_survdiff() -> None:
    """R ``survdiff`` on the Freireich data: 6-MP O=9 E=19.3, placebo O=21 E=10.7,
    Chisq = 16.8 on 1 df, p = 4e-05."""
    result = stats.logrank_test(
        SIX_MP + PLACEBO, SIX_MP_EVENT + [True] * 21, ["6-MP"] * 21 + ["placebo"] * 21
    )
    assert (result.df, round(result.chi2, 1)) == (1, 16.8)
    assert result.observed == {"6-MP": 9.0, "placebo": 21.0}
    assert (
        round(result.expected["6-MP"], 1) == 19.3 and round(result.expected["placebo"], 1) == 10.7
    )
    assert f"{result.p:.0e}" == "4e-05"


@pytest.mark.parametrize("seed", range(5))
def test_logrank_matches_lifelines_for_two_and_three_groups(seed: int) -> None:
    durations, observed = random_cohort(seed, n=180)
    rng = np.random.default_rng(seed + 100)
    two = rng.integers(0, 2, size=180)
    ours = stats.logrank_test(durations, observed, two)
    a, b = two == 0, two == 1
    ref = lifelines_logrank(durations[a], durations[b], observed[a], observed[b])
    assert math.isclose(ours.chi2, ref.test_statistic, rel_tol=1e-9)
    assert math.isclose(ours.p, ref.p_value, rel_tol=1e-9)

    three = rng.choice(["marrow", "adipose", "donor"], size=180)
    ours3 = stats.logrank_test(durations, observed, three)
    ref3 = multivariate_logrank_test(durations, three, observed)
    assert ours3.df == 2
    assert math.isclose(ours3.chi2, ref3.test_statistic, rel_tol=1e-9)
    assert math.isclose(ours3.p, ref3.p_value, rel_tol=1e-9)


@pytest.mark.parametrize("df", range(1, 7))
def test_the_chi_square_tail_matches_scipy(df: int) -> None:
    for x in (0.01, 0.5, 1.0, 3.84, 10.0, 40.0):
        assert math.isclose(stats._chi2_sf(x, df), scipy_chi2.sf(x, df), rel_tol=1e-10)
