"""The registry's outcome report: responders at each time point three ways, follow-up
completeness, the durability of relief, the STROBE flow, and two strata compared.

Every figure is computed from the analytic relations (adapters/analytics.py) as numpy arrays,
with the methods of regenpath.stats and domain/responders.py (docs/rules.md). Not
yet due is never missing: a time point is due once its window has closed, and patients whose
window is open are left out of its denominators and counted apart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt

from regenpath import stats
from regenpath.domain.audit import AuditAction
from regenpath.domain.errors import InvalidValue
from regenpath.domain.followup import DAYS_PER_MONTH, DEFAULT_SCHEDULE, parse_schedule
from regenpath.domain.responders import (
    DEFINITIONS,
    PRIMARY,
    Proportion,
    ResponderAnalysis,
    ResponderDefinition,
    counted,
)
from regenpath.services.audit import record
from regenpath.services.ports import Clock, OutcomeSource, UnitOfWork

SCORE_OF = {"pain": "baseline_pain", "odi": "baseline_odi", "rmdq": None}
# Stages in which an episode stopped before a step, in words for the flow's reasons.
_NOT_EVALUATED = {"referred": "waiting for evaluation", "in_evaluation": "in evaluation"}


@dataclass(frozen=True)
class TimePointOutcome:
    sequence: int
    label: str
    day: int  # the planned day after the injection
    n_cohort: int  # treated patients in the selection
    n_replaced: int  # a repeat treatment replaced this time point (FU-4): not missing
    n_not_yet_due: int  # the window is still open: in no denominator
    n_due: int
    n_completed: int
    completeness: Proportion  # completed / due
    responders: list[ResponderAnalysis]


@dataclass(frozen=True)
class SurvivalPoint:
    months: float
    survival: float
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class Durability:
    """Time from the injection to the loss of response, among responders (primary definition).
    Loss is only seen at visits: the curve is no finer than the visit grid."""

    definition: ResponderDefinition
    n_responders: int
    n_lost: int
    curve: list[dict[str, float | int | None]]  # kaplan_meier rows, JSON-ready
    median_months: float | None
    median_lower: float | None
    median_upper: float | None
    at: list[SurvivalPoint]  # the estimate at 6 and 12 months
    conf_type: str
    at_risk: list[tuple[int, int]] = field(default_factory=list)  # (month, still at risk)


@dataclass(frozen=True)
class FlowStep:
    step: str
    count: int
    not_onward: dict[str, int]  # why the others did not reach the next step


@dataclass(frozen=True)
class Comparison:
    stratum: str
    first: str
    second: str
    time_point: str
    worst_case: tuple[Proportion, Proportion]
    difference: tuple[float | None, float | None, float | None]  # Newcombe, first - second
    logrank_chi2: float | None  # durability of relief, first against second
    logrank_p: float | None


@dataclass(frozen=True)
class StratumOutcome:
    """One value of one stratum at the report's reference time point (primary definition)."""

    stratum: str
    value: str
    n_due: int
    n_answered: int
    worst_case: Proportion  # responders / due


@dataclass(frozen=True)
class OutcomeReport:
    as_of: date
    filters: dict[str, str]
    n_cohort: int
    time_points: list[TimePointOutcome]
    durability: Durability
    flow: list[FlowStep]
    strata: dict[str, list[str]]
    comparison: Comparison | None = None
    median_potential_follow_up_months: float | None = None
    notes: list[str] = field(default_factory=list)
    by_stratum: list[StratumOutcome] = field(default_factory=list)
    stratum_time_point: str | None = None  # the time point by_stratum is at


def schedule_labels() -> set[str]:
    """The default schedule's time point labels (a report also knows those in its data)."""
    return {point.label for point in parse_schedule(DEFAULT_SCHEDULE)}


def _reference_point(time_points: Sequence[TimePointOutcome]) -> TimePointOutcome | None:
    """The time point strata are compared at: 12 months when anyone is due there, else the
    latest with patients due."""
    due = [t for t in time_points if t.n_due]
    return next((t for t in due if t.label == "12 months"), due[-1] if due else None)


def _time_points(
    source: OutcomeSource, as_of: date, filters: Mapping[str, str], n_cohort: int
) -> list[TimePointOutcome]:
    found = []
    for row in source.time_point_counts(as_of, DEFINITIONS, filters):
        analyses = [
            counted(
                definition,
                n_due=row["due"],
                n_answered=answered,
                n_evaluable=evaluable,
                responders=responders,
                n_not_yet_due=row["scheduled"] - row["due"],
            )
            for definition in DEFINITIONS
            if definition.code in row["definitions"]
            for answered, evaluable, responders in [row["definitions"][definition.code]]
        ]
        found.append(
            TimePointOutcome(
                sequence=row["sequence"],
                label=row["label"],
                day=row["day"],
                n_cohort=n_cohort,
                n_replaced=n_cohort - row["scheduled"],
                n_not_yet_due=row["scheduled"] - row["due"],
                n_due=row["due"],
                n_completed=row["completed"],
                completeness=Proportion.of(row["completed"], row["due"]),
                responders=analyses,
            )
        )
    return found


def _durability(
    source: OutcomeSource,
    filters: Mapping[str, str],
    definition: ResponderDefinition,
    conf_type: stats.ConfType,
) -> Durability:
    duration, event = source.durability_durations(definition, filters)
    rows: list[dict[str, float | int | None]] = []
    median: tuple[float | None, float | None, float | None] = (None, None, None)
    at: list[SurvivalPoint] = []
    if len(duration):
        table = stats.kaplan_meier(duration, event, conf_type)
        rows = [{name: _json_number(row[name]) for name in stats.KM_FIELDS} for row in table]
        median = stats.median_survival(duration, event, conf_type)
        at = [_survival_at(table, months) for months in (6, 12)]
    horizon = int(max(duration.max() / DAYS_PER_MONTH, 12)) if len(duration) else 12
    at_risk = [
        (month, int((duration >= month * DAYS_PER_MONTH).sum()))
        for month in range(0, horizon + 1, 6)
    ]
    return Durability(
        definition=definition,
        n_responders=len(duration),
        n_lost=int(event.sum()),
        curve=rows,
        median_months=_months(median[0]),
        median_lower=_months(median[1]),
        median_upper=_months(median[2]),
        at=at,
        conf_type=conf_type,
        at_risk=at_risk,
    )


def _survival_at(table: npt.NDArray[np.void], months: float) -> SurvivalPoint:
    """The step function at ``months``: the estimate after the last event time before it."""
    day = months * DAYS_PER_MONTH
    before = np.flatnonzero(table["time"] <= day)
    if len(before) == 0:
        return SurvivalPoint(months, 1.0, None, None)
    row = table[before[-1]]
    return SurvivalPoint(
        months,
        float(row["survival"]),
        _json_number(row["ci_lower"]),
        _json_number(row["ci_upper"]),
    )


def _json_number(value: Any) -> float | int | None:
    number = value.item() if hasattr(value, "item") else value
    if isinstance(number, float) and np.isnan(number):
        return None
    return number  # type: ignore[no-any-return]


def _months(days: float | None) -> float | None:
    return None if days is None else round(days / DAYS_PER_MONTH, 1)


def _flow(source: OutcomeSource, time_points: list[TimePointOutcome]) -> list[FlowStep]:
    """STROBE 13a/13b: the numbers at each step and why the others did not go on."""
    total = evaluated = eligible = treated = 0
    not_evaluated: Counter[str] = Counter()
    not_eligible: Counter[str] = Counter()
    not_treated: Counter[str] = Counter()
    for stage, was_evaluated, was_eligible, was_treated, n in source.flow_counts():
        total += n
        words = stage.replace("_", " ")
        if not was_evaluated:
            not_evaluated[_NOT_EVALUATED.get(stage, words)] += n
            continue
        evaluated += n
        if not was_eligible:
            waiting = stage == "in_evaluation"
            not_eligible["awaiting the eligibility decision" if waiting else words] += n
            continue
        eligible += n
        if not was_treated:
            not_treated[words] += n
            continue
        treated += n
    steps = [
        FlowStep("referred", total, dict(not_evaluated)),
        FlowStep("evaluated", evaluated, dict(not_eligible)),
        FlowStep("eligible", eligible, dict(not_treated)),
        FlowStep("treated", treated, {}),
    ]
    for point in time_points:
        if not (point.n_due or point.n_completed):
            continue  # nobody has reached it yet: one line in the report, no box
        primary = next(r for r in point.responders if r.definition == PRIMARY)
        steps.append(
            FlowStep(
                f"followed at {point.label}, {primary.n_evaluable} analysed",
                point.n_completed,
                {
                    "window still open": point.n_not_yet_due,
                    "missed": point.n_due - point.n_completed,
                    "replaced by a repeat treatment": point.n_replaced,
                    "not evaluable (no usable baseline)": primary.n_not_evaluable,
                },
            )
        )
    return steps


def read_outcome_report(
    uow: UnitOfWork,
    clock: Clock,
    source: OutcomeSource,
    as_of: date,
    filters: Mapping[str, str] | None = None,
    compare: tuple[str, str, str] | None = None,
    conf_type: stats.ConfType = "log-log",
    time_point: str | None = None,
) -> OutcomeReport:
    """:func:`outcome_report` over the clinics of the reader's scope; the read is audited."""
    clinic_ids = uow.scope.clinic_ids
    report = outcome_report(source, as_of, filters, compare, conf_type, clinic_ids, time_point)
    asked = ", ".join(f"{k}={v}" for k, v in sorted((filters or {}).items())) or "everyone"
    with uow:
        record(
            uow,
            clock,
            AuditAction.READ,
            "outcome_report",
            None,
            None,
            detail=f"{asked}; {report.n_cohort} treated"
            + (f"; compare {compare}" if compare else ""),
        )
        uow.commit()
    return report


def export_deidentified(
    uow: UnitOfWork, clock: Clock, source: OutcomeSource, folder: Path, file_format: str
) -> dict[str, int]:
    """The de-identified registry of the reader's clinics (HIPAA Safe Harbor), written to
    ``folder``; the export is audited with what it holds."""
    written = source.scoped(uow.scope.clinic_ids).export_deidentified(folder, file_format)
    with uow:
        record(
            uow,
            clock,
            AuditAction.READ,
            "deidentified_export",
            None,
            None,
            detail=", ".join(f"{name}: {rows}" for name, rows in written.items()),
        )
        uow.commit()
    return written


def outcome_report(
    source: OutcomeSource,
    as_of: date,
    filters: Mapping[str, str] | None = None,
    compare: tuple[str, str, str] | None = None,
    conf_type: stats.ConfType = "log-log",
    clinic_ids: Collection[UUID] | None = None,
    time_point: str | None = None,
) -> OutcomeReport:
    """The report for the selection ``filters`` (stratum -> value) as of ``as_of``, over the
    clinics ``clinic_ids`` (None: all, for the operator's command line); ``compare`` =
    (stratum, first value, second value) adds the two compared, at ``time_point`` (a label
    of the schedule; by default the latest with patients due on both sides)."""
    source = source.scoped(clinic_ids)
    chosen = dict(filters or {})
    n_cohort = source.cohort_summary(chosen)["n"]
    time_points = _time_points(source, as_of, chosen, n_cohort)
    reference = _reference_point(time_points)
    by_stratum = (
        [
            StratumOutcome(stratum, value, due, answered, Proportion.of(responders, due))
            for stratum, value, due, answered, responders in source.strata_counts(
                as_of, PRIMARY, reference.sequence, chosen
            )
        ]
        if reference is not None
        else []
    )
    known = schedule_labels() | {point.label for point in time_points}
    if time_point is not None and time_point not in known:
        raise InvalidValue("time_point", f"{time_point!r} is not a time point of the schedule")
    report = OutcomeReport(
        as_of=as_of,
        filters=chosen,
        n_cohort=n_cohort,
        time_points=time_points,
        durability=_durability(source, chosen, PRIMARY, conf_type),
        flow=_flow(source, time_points),
        strata=source.strata_values(),
        median_potential_follow_up_months=_potential_follow_up(source, chosen, as_of),
        by_stratum=by_stratum,
        stratum_time_point=reference.label if reference else None,
        notes=[
            f"Primary responder definition: {PRIMARY.title} ({PRIMARY.source}).",
            "A time point is due once its window has closed; patients whose window is still"
            " open are in no denominator.",
            "Worst case counts every due patient without answers as a non-responder; best"
            " case counts them as responders; complete case leaves them out.",
            f"Durability bands: {conf_type} (Greenwood); loss of response is seen only at visits.",
        ],
    )
    if compare is not None:
        report = _with_comparison(source, report, compare, chosen, as_of, conf_type, time_point)
    return report


LEFT_FOLLOW_UP = ("lost_to_follow_up", "withdrawn")


def _potential_follow_up(
    source: OutcomeSource, filters: Mapping[str, str], as_of: date
) -> float | None:
    """Median potential follow-up by reverse Kaplan-Meier (docs/rules.md): a patient
    lost to follow-up (or withdrawn) leaves at their last answered visit, which is the
    "event"; everyone else is followed up to ``as_of``, a censoring the reverse curve counts."""
    durations, left = source.follow_up_durations(as_of, LEFT_FOLLOW_UP, filters)
    if len(durations) == 0:
        return None
    return _months(stats.reverse_km_median_followup(durations, left))


def _with_comparison(
    source: OutcomeSource,
    report: OutcomeReport,
    compare: tuple[str, str, str],
    chosen: dict[str, str],
    as_of: date,
    conf_type: stats.ConfType,
    time_point: str | None,
) -> OutcomeReport:
    stratum, first, second = compare
    sides = []
    for value in (first, second):
        narrowed = chosen | {stratum: value}
        n = source.cohort_summary(narrowed)["n"]
        sides.append((narrowed, _time_points(source, as_of, narrowed, n)))
    # The latest time point both sides have patients due at.
    common = [
        (a, b)
        for a in sides[0][1]
        for b in sides[1][1]
        if a.sequence == b.sequence and (a.label == time_point or (a.n_due and b.n_due))
    ]
    if time_point is not None:
        common = [(a, b) for a, b in common if a.label == time_point]
    worst: tuple[Proportion, Proportion] = (Proportion.of(0, 0), Proportion.of(0, 0))
    difference: tuple[float | None, float | None, float | None] = (None, None, None)
    label = "none due on both sides"
    if common:
        a, b = common[-1]
        label = a.label
        pa = next(r.worst_case for r in a.responders if r.definition == PRIMARY)
        pb = next(r.worst_case for r in b.responders if r.definition == PRIMARY)
        worst = (pa, pb)
        estimate, lower, upper = stats.newcombe_difference(pa.k, pa.n, pb.k, pb.n)
        difference = (float(estimate), float(lower), float(upper))
    chi2 = p = None
    durations = [source.durability_durations(PRIMARY, narrowed) for narrowed, _t in sides]
    if all(len(d[0]) for d in durations) and any(d[1].any() for d in durations):
        result = stats.logrank_test(
            np.concatenate([d[0] for d in durations]),
            np.concatenate([d[1] for d in durations]),
            np.repeat([first, second], [len(d[0]) for d in durations]),
        )
        chi2, p = result.chi2, result.p
    comparison = Comparison(stratum, first, second, label, worst, difference, chi2, p)
    return OutcomeReport(**{**report.__dict__, "comparison": comparison})


# -- what to expect -----------------------------------------------------------------------------

# Any figure resting on fewer patients than this is not shown (issue 5: aggregate only).
MIN_PATIENTS = 10
# The time points a person considering treatment is told about, the latest with enough
# patients due first.
EXPECTATION_TIME_POINTS = ("12 months", "6 months", "3 months")


@dataclass(frozen=True)
class Expectation:
    """What the clinic's own results say for patients like this person: the worst-case
    responder rate (everyone who did not report back counted as not improved), adverse
    events, and the price paid; None where fewer than MIN_PATIENTS stand behind a figure."""

    like: dict[str, str]  # the strata that define "like them"
    n_treated: int
    time_point: str | None
    responders: Proportion | None  # worst case, primary definition
    any_adverse_event: Proportion | None
    serious_adverse_event: Proportion | None
    price_range: tuple[float, float, str] | None  # lowest, highest, currency
    minimum: int = MIN_PATIENTS

    @property
    def suppressed(self) -> bool:
        return self.responders is None


def what_to_expect(
    source: OutcomeSource,
    as_of: date,
    like: Mapping[str, str],
    clinic_ids: Collection[UUID] | None = None,
) -> Expectation:
    """Figures for "patients like me" (``like``: stratum -> value, e.g. condition, target,
    age band), each suppressed below MIN_PATIENTS patients."""
    scoped = source.scoped(clinic_ids)
    chosen = dict(like)
    summary = scoped.cohort_summary(chosen)
    n = summary["n"]
    responders: Proportion | None = None
    label: str | None = None
    by_label = {t.label: t for t in _time_points(scoped, as_of, chosen, n)}
    for wanted in EXPECTATION_TIME_POINTS:
        point = by_label.get(wanted)
        if point is not None and point.n_due >= MIN_PATIENTS:
            primary = next(r for r in point.responders if r.definition == PRIMARY)
            responders, label = primary.worst_case, wanted
            break
    any_event = serious = None
    if n >= MIN_PATIENTS:
        any_event = Proportion.of(summary["with_event"], n)
        serious = Proportion.of(summary["with_serious"], n)
    price_range = None
    if summary["priced"] >= MIN_PATIENTS:
        currencies = summary["currencies"]
        currency = currencies[0] if len(currencies) == 1 else "mixed currencies"
        price_range = (float(summary["price_min"]), float(summary["price_max"]), currency)
    return Expectation(chosen, n, label, responders, any_event, serious, price_range)


def expectation_for(
    source: OutcomeSource,
    as_of: date,
    candidates: Sequence[Mapping[str, str]],
    clinic_ids: Collection[UUID] | None = None,
) -> Expectation:
    """The narrowest group of "patients like me" with enough patients behind its figures,
    trying ``candidates`` from the narrowest; the broadest, suppressed, if none has."""
    expectation = None
    for like in candidates:
        expectation = what_to_expect(source, as_of, like, clinic_ids)
        if not expectation.suppressed:
            return expectation
    assert expectation is not None, "at least one group of patients to look at"
    return expectation
