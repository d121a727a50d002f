"""Statistics for honest outcome reporting: proportions with score intervals, survival curves
with Greenwood variance, their medians, and the log-rank test.

Pure and vectorised with numpy; no I/O. Each function names its method and convention, because
software defaults differ (R's ``survfit`` bands are "log", Stata's and lifelines' are
"log-log"): the choice is always the caller's, and explicit. Methods and reference values:
``docs/rules.md`` (statistical methods); the tests hold them against R's published output,
lifelines and statsmodels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
import numpy.typing as npt

ConfType = Literal["log-log", "log", "plain"]
ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]

__all__ = [
    "KM_FIELDS",
    "LogRank",
    "kaplan_meier",
    "logrank_test",
    "median_survival",
    "newcombe_difference",
    "reverse_km_median_followup",
    "wilson_interval",
]


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level}")
    return NormalDist().inv_cdf(0.5 + level / 2)


def _scalar_or_array(value: FloatArray) -> float | FloatArray:
    return float(value) if value.ndim == 0 else value


def wilson_interval(
    k: ArrayLike, n: ArrayLike, level: float = 0.95
) -> tuple[float | FloatArray, float | FloatArray]:
    """Wilson score interval for the proportion k/n.

    Parameters
    ----------
    k, n : int or array_like
        Successes and trials; arrays are computed element-wise.
    level : float
        Confidence level (0.95: z = 1.959964).

    Returns
    -------
    (lower, upper)
        Clamped to [0, 1]; exactly 0 at k = 0 and exactly 1 at k = n. NaN where n = 0
        (no interval).

    Notes
    -----
    Newcombe, Stat Med 1998;17:857-872, Table I method 3 (the score method without continuity
    correction): centre = (k + z^2/2)/(n + z^2), half-width = z sqrt(k(n-k)/n + z^2/4)/(n + z^2).
    """
    z = _z(level)
    k_, n_ = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    if np.any(k_ < 0) or np.any(k_ > n_):
        raise ValueError("k must be between 0 and n")
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = (k_ + z * z / 2) / (n_ + z * z)
        half = z * np.sqrt(k_ * (n_ - k_) / n_ + z * z / 4) / (n_ + z * z)
        lower = np.where(k_ == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
        upper = np.where(k_ == n_, 1.0, np.clip(centre + half, 0.0, 1.0))
    lower = np.where(n_ == 0, np.nan, lower)
    upper = np.where(n_ == 0, np.nan, upper)
    return _scalar_or_array(lower), _scalar_or_array(upper)


def newcombe_difference(
    k1: ArrayLike, n1: ArrayLike, k2: ArrayLike, n2: ArrayLike, level: float = 0.95
) -> tuple[float | FloatArray, float | FloatArray, float | FloatArray]:
    """Difference of two independent proportions, p1 - p2, with Newcombe's hybrid score
    interval.

    Returns
    -------
    (estimate, lower, upper)
        NaN where either n is 0.

    Notes
    -----
    Newcombe, Stat Med 1998;17:873-890, method 10: with (l1, u1) and (l2, u2) the Wilson
    intervals of each proportion, lower = d - sqrt((p1 - l1)^2 + (u2 - p2)^2) and
    upper = d + sqrt((u1 - p1)^2 + (p2 - l2)^2).
    """
    k1_, n1_ = np.asarray(k1, dtype=float), np.asarray(n1, dtype=float)
    k2_, n2_ = np.asarray(k2, dtype=float), np.asarray(n2, dtype=float)
    l1, u1 = (np.asarray(v) for v in wilson_interval(k1_, n1_, level))
    l2, u2 = (np.asarray(v) for v in wilson_interval(k2_, n2_, level))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = k1_ / n1_, k2_ / n2_
    estimate = p1 - p2
    lower = estimate - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = estimate + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return _scalar_or_array(estimate), _scalar_or_array(lower), _scalar_or_array(upper)


KM_FIELDS = (
    "time",
    "at_risk",
    "events",
    "censored",
    "survival",
    "std_err",
    "ci_lower",
    "ci_upper",
)
_KM_DTYPE = np.dtype(
    [("time", float), ("at_risk", np.int64), ("events", np.int64), ("censored", np.int64)]
    + [(name, float) for name in KM_FIELDS[4:]]
)


def _survival_table(
    durations: ArrayLike, observed: ArrayLike
) -> tuple[FloatArray, npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Every distinct time: (time, at risk, events, censored at that time)."""
    t = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    if t.shape != e.shape or t.ndim != 1:
        raise ValueError("durations and observed must be one-dimensional and of equal length")
    if np.any(np.isnan(t)) or np.any(t < 0):
        raise ValueError("durations must be non-negative numbers")
    times, index = np.unique(t, return_inverse=True)
    events = np.bincount(index, weights=e, minlength=len(times)).astype(np.int64)
    leaving = np.bincount(index, minlength=len(times)).astype(np.int64)
    # At risk at t: everyone whose time is t or later, so a patient censored at t is still at
    # risk at t (events come before censorings at tied times).
    at_risk = len(t) - np.concatenate(([0], np.cumsum(leaving)[:-1]))
    return times, at_risk, events, leaving - events


def _bands(
    survival: FloatArray, greenwood: FloatArray, conf_type: ConfType, z: float
) -> tuple[FloatArray, FloatArray]:
    """Pointwise bands from S and Greenwood's sum of d/(n(n-d))."""
    root = np.sqrt(greenwood)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "log":
            lower = survival * np.exp(-z * root)
            upper = np.minimum(1.0, survival * np.exp(z * root))
        elif conf_type == "log-log":
            se = root / np.abs(np.log(survival))
            lower = survival ** np.exp(z * se)
            upper = survival ** np.exp(-z * se)
        elif conf_type == "plain":
            se = survival * root
            lower = np.maximum(0.0, survival - z * se)
            upper = np.minimum(1.0, survival + z * se)
        else:
            raise ValueError(f"conf_type must be 'log-log', 'log' or 'plain', not {conf_type!r}")
    undefined = (survival <= 0) | ~np.isfinite(greenwood)
    return np.where(undefined, np.nan, lower), np.where(undefined, np.nan, upper)


def kaplan_meier(
    durations: ArrayLike,
    observed: ArrayLike,
    conf_type: ConfType = "log-log",
    level: float = 0.95,
) -> npt.NDArray[np.void]:
    """Kaplan-Meier estimate of S(t) with Greenwood's variance.

    Parameters
    ----------
    durations : array_like
        Time of each subject's event or censoring.
    observed : array_like of bool
        True for an event, False for a censoring.
    conf_type : {"log-log", "log", "plain"}
        The pointwise band: "log-log" (Stata, lifelines; the default here), "log" (R
        ``survfit``'s default, upper limit capped at 1) or "plain" (S +/- z SE, clipped).
    level : float
        Confidence level of the band.

    Returns
    -------
    numpy structured array
        One row per distinct event time, fields ``time, at_risk, events, censored, survival,
        std_err, ci_lower, ci_upper``. ``censored`` counts the subjects censored after the
        previous event time up to and including this one (so censorings after the last event
        time appear in no row). ``std_err`` is Greenwood's standard error of S(t) itself, as R's
        ``summary.survfit`` reports it; where S reaches 0 it and the band are NaN.

    Notes
    -----
    S(t) = prod(1 - d_i/n_i); Var S(t) = S(t)^2 sum d_i/(n_i(n_i - d_i)) (Greenwood 1926).
    A patient censored at an event time is still at risk at it.
    """
    z = _z(level)
    times, at_risk, events, censored = _survival_table(durations, observed)
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1.0 - events / at_risk)
        greenwood = np.cumsum(events / (at_risk * (at_risk - events)))
    cumulative_censored = np.cumsum(censored)
    is_event = events > 0
    table = np.empty(int(is_event.sum()), dtype=_KM_DTYPE)
    shown_censored = cumulative_censored[is_event]
    table["time"] = times[is_event]
    table["at_risk"] = at_risk[is_event]
    table["events"] = events[is_event]
    table["censored"] = np.diff(np.concatenate(([0], shown_censored)))
    table["survival"] = survival[is_event]
    gw = np.asarray(greenwood[is_event], dtype=np.float64)
    s = np.asarray(survival[is_event], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        table["std_err"] = np.where(s > 0, s * np.sqrt(gw), np.nan)
    table["ci_lower"], table["ci_upper"] = _bands(s, gw, conf_type, z)
    return table


def _first_at_or_below(
    times: FloatArray, curve: FloatArray, next_times: FloatArray
) -> float | None:
    """The smallest time the curve is at or below 0.5, by R's quantile rule: where the curve
    sits at exactly 0.5 over an interval, the middle of that interval."""
    hits = np.flatnonzero(curve <= 0.5 + 1e-12)
    if len(hits) == 0:
        return None
    first = hits[0]
    if abs(curve[first] - 0.5) < 1e-12 and not math.isnan(next_times[first]):
        return float((times[first] + next_times[first]) / 2)
    return float(times[first])


def median_survival(
    durations: ArrayLike,
    observed: ArrayLike,
    conf_type: ConfType = "log-log",
    level: float = 0.95,
) -> tuple[float | None, float | None, float | None]:
    """Median survival time and its confidence limits, by R's rule.

    Returns
    -------
    (median, lower, upper)
        median: the smallest t with S(t) <= 0.5; lower and upper: the smallest t where the
        lower and the upper pointwise band are <= 0.5. None where the curve or band never
        gets there. The limits depend on ``conf_type``: say which one a report uses.

    Notes
    -----
    R ``quantile.survfit``: where S(t) equals 0.5 exactly over an interval, the median is
    the midpoint of that interval (to the next event time).
    """
    table = kaplan_meier(durations, observed, conf_type, level)
    times = table["time"]
    following = np.concatenate((times[1:], [np.nan]))
    lower_band = np.where(np.isnan(table["ci_lower"]), 0.0, table["ci_lower"])
    upper_band = np.where(np.isnan(table["ci_upper"]), 0.0, table["ci_upper"])
    return (
        _first_at_or_below(times, table["survival"], following),
        _first_at_or_below(times, lower_band, following),
        _first_at_or_below(times, upper_band, following),
    )


@dataclass(frozen=True)
class LogRank:
    chi2: float
    df: int
    p: float
    observed: dict[object, float]  # events per group
    expected: dict[object, float]  # events expected per group under the null hypothesis


def _chi2_sf(x: float, df: int) -> float:
    """Upper tail of the chi-square distribution with integer ``df`` (closed forms)."""
    if x <= 0:
        return 1.0
    half = x / 2
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for j in range(1, df // 2):
            term *= half / j
            total += term
        return math.exp(-half) * total
    root = math.sqrt(x)
    tail = math.erfc(root / math.sqrt(2))
    term, total = root, 0.0
    for j in range(1, (df - 1) // 2 + 1):
        if j > 1:
            term *= x / (2 * j - 1)
        total += term
    return tail + math.sqrt(2 / math.pi) * math.exp(-half) * total


def logrank_test(durations: ArrayLike, observed: ArrayLike, groups: ArrayLike) -> LogRank:
    """The log-rank test of equal survival across groups.

    Returns
    -------
    LogRank
        chi2 on (groups - 1) degrees of freedom, its p-value, and observed and expected
        events per group.

    Notes
    -----
    At each event time: E_g = d n_g/n and Cov(O_g, O_h) = d (n - d)/(n - 1) (n_g/n)
    (delta_gh - n_h/n); chi2 = (O - E)' V^-1 (O - E) over all groups but one (Mantel 1966;
    for two groups, (O1 - E1)^2/V on 1 df, as docs/rules.md says).
    """
    t = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    labels, g = np.unique(np.asarray(groups), return_inverse=True)
    if len(labels) < 2:
        raise ValueError("the log-rank test compares at least two groups")
    times, index = np.unique(t, return_inverse=True)
    k = len(labels)
    # events[g, i] and leaving[g, i]: per group and distinct time.
    events = np.zeros((k, len(times)))
    leaving = np.zeros((k, len(times)))
    np.add.at(events, (g, index), e)
    np.add.at(leaving, (g, index), 1)
    at_risk = leaving.sum(axis=1, keepdims=True) - np.concatenate(
        (np.zeros((k, 1)), np.cumsum(leaving, axis=1)[:, :-1]), axis=1
    )
    n = at_risk.sum(axis=0)
    d = events.sum(axis=0)
    used = d > 0
    share = at_risk[:, used] / n[used]
    expected = (share * d[used]).sum(axis=1)
    observed_events = events.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n[used] > 1, d[used] * (n[used] - d[used]) / (n[used] - 1), 0.0)
    covariance = np.einsum("i,gi,hi->gh", factor, share, -share)
    covariance[np.diag_indices(k)] += (factor * share).sum(axis=1)
    diff = (observed_events - expected)[:-1]
    chi2 = float(diff @ np.linalg.solve(covariance[:-1, :-1], diff))
    df = k - 1
    key = [label.item() if hasattr(label, "item") else label for label in labels]
    return LogRank(
        chi2=chi2,
        df=df,
        p=_chi2_sf(chi2, df),
        observed=dict(zip(key, observed_events.tolist(), strict=True)),
        expected=dict(zip(key, expected.tolist(), strict=True)),
    )


def reverse_km_median_followup(durations: ArrayLike, observed: ArrayLike) -> float | None:
    """Median potential follow-up by the reverse Kaplan-Meier method: censoring is the
    "event" and the events are censored (Schemper & Smith, Control Clin Trials 1996).

    Returns None where the reverse curve never reaches 0.5.
    """
    reversed_observed = ~np.asarray(observed, dtype=bool)
    median, _lower, _upper = median_survival(durations, reversed_observed)
    return median
