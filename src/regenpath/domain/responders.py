"""Responders by the minimal clinically important difference, reported three ways.

Definitions (docs/rules.md): the primary one, pre-registered, is a reduction of at
least 30 % on the pain NRS (Ostelo et al., Spine 2008;33:90-94; Dworkin et al., IMMPACT, J Pain
2008;9:105-121; Farrar et al., Pain 2001;94:149-158); the secondary ones are at least 2 NRS
points, at least 50 % (IMMPACT "substantial"), ODI at least 10 points or 30 %, RMDQ at least 5
points (Ostelo 2008). Improvement is baseline minus follow-up (lower is better for all three);
thresholds are inclusive; a percentage is undefined at a baseline of 0, and such a patient is
counted as not evaluable, never dropped.

The three analyses (docs/rules.md, Sackett's bounds), always shown together:
complete-case (responders / evaluable), worst case or non-responder imputation (responders /
due), best case ((responders + missing) / due). "Due" means the time point's window has
closed; patients not yet due are left out of every denominator and counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from regenpath.stats import wilson_interval

# Scores are floats (the ODI is unrounded): an exact boundary such as 10 -> 7 must pass.
_TOLERANCE = 1e-9


class Rule(StrEnum):
    PERCENT = "percent"  # at least this many percent of the baseline
    POINTS = "points"  # at least this many points


@dataclass(frozen=True)
class ResponderDefinition:
    code: str
    title: str
    score: str  # which score: "pain" (the index NRS), "odi", "rmdq"
    rule: Rule
    threshold: float
    primary: bool
    source: str

    def responds(
        self, baseline: npt.ArrayLike, follow_up: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """(responder, evaluable) per patient; NaN scores and, for a percentage, a baseline of
        0 are not evaluable."""
        b = np.asarray(baseline, dtype=float)
        f = np.asarray(follow_up, dtype=float)
        evaluable = ~(np.isnan(b) | np.isnan(f))
        improvement = b - f
        if self.rule is Rule.PERCENT:
            evaluable &= b > 0
            met = 100 * improvement >= self.threshold * b - _TOLERANCE
        else:
            met = improvement >= self.threshold - _TOLERANCE
        return met & evaluable, evaluable


OSTELO = "Ostelo et al., Spine 2008;33:90-94"
DEFINITIONS: tuple[ResponderDefinition, ...] = (
    ResponderDefinition(
        "nrs-30pct", "Pain NRS reduced by at least 30 %", "pain", Rule.PERCENT, 30, True,
        f"{OSTELO}; Dworkin et al. (IMMPACT), J Pain 2008;9:105-121; Farrar et al., Pain 2001",
    ),
    ResponderDefinition(
        "nrs-2pt", "Pain NRS reduced by at least 2 points", "pain", Rule.POINTS, 2, False, OSTELO
    ),
    ResponderDefinition(
        "nrs-50pct", "Pain NRS reduced by at least 50 %", "pain", Rule.PERCENT, 50, False,
        "Dworkin et al. (IMMPACT), J Pain 2008;9:105-121: substantial",
    ),
    ResponderDefinition(
        "odi-10pt", "ODI reduced by at least 10 points", "odi", Rule.POINTS, 10, False, OSTELO
    ),
    ResponderDefinition(
        "odi-30pct", "ODI reduced by at least 30 %", "odi", Rule.PERCENT, 30, False, OSTELO
    ),
    ResponderDefinition(
        "rmdq-5pt", "RMDQ reduced by at least 5 points", "rmdq", Rule.POINTS, 5, False, OSTELO
    ),
)  # fmt: skip
PRIMARY = next(d for d in DEFINITIONS if d.primary)

# The KOOS subscales as koos.toml names them: the registry keeps one score column for each.
KOOS_SUBSCALES = ("symptoms", "pain", "adl", "sport", "qol")

# The report's age bands: (upper bound, exclusive; the band's name). The last has no bound.
AGE_BANDS: tuple[tuple[int | None, str], ...] = (
    (40, "under 40"),
    (50, "40-49"),
    (60, "50-59"),
    (70, "60-69"),
    (None, "70 and over"),
)


def age_band(age: int) -> str:
    return next(name for upper, name in AGE_BANDS if upper is None or age < upper)


@dataclass(frozen=True)
class Proportion:
    k: int
    n: int
    lower: float | None  # Wilson 95 % interval; None without patients
    upper: float | None

    @property
    def rate(self) -> float | None:
        return self.k / self.n if self.n else None

    @classmethod
    def of(cls, k: int, n: int) -> Proportion:
        if n == 0:
            return cls(k, n, None, None)
        lower, upper = wilson_interval(k, n)
        return cls(k, n, float(lower), float(upper))


@dataclass(frozen=True)
class ResponderAnalysis:
    """One definition at one time point: the counts and the three analyses."""

    definition: ResponderDefinition
    n_due: int  # the window closed: answered or not
    n_evaluable: int  # answered, with a baseline the definition can use
    n_not_evaluable: int  # answered, but e.g. a baseline of 0 for a percentage
    n_missing: int  # due and not answered
    n_not_yet_due: int  # left out of every denominator
    responders: int
    complete_case: Proportion  # responders / evaluable
    worst_case: Proportion  # responders / due: non-responder imputation
    best_case: Proportion  # (responders + missing) / due


def analyse(
    definition: ResponderDefinition,
    baseline: npt.ArrayLike,
    follow_up: npt.ArrayLike,
    due: npt.ArrayLike,
) -> ResponderAnalysis:
    """The three analyses of one definition at one time point, over the treated cohort:
    ``baseline`` and ``follow_up`` per patient (NaN where not answered), ``due`` True where
    the time point's window has closed for that patient."""
    due_ = np.asarray(due, dtype=bool)
    answered = ~np.isnan(np.asarray(follow_up, dtype=float))
    responder, evaluable = definition.responds(baseline, follow_up)
    return counted(
        definition,
        n_due=int(due_.sum()),
        n_answered=int((answered & due_).sum()),
        n_evaluable=int((evaluable & due_).sum()),
        responders=int((responder & due_).sum()),
        n_not_yet_due=int((~due_).sum()),
    )


def counted(
    definition: ResponderDefinition,
    *,
    n_due: int,
    n_answered: int,
    n_evaluable: int,
    responders: int,
    n_not_yet_due: int,
) -> ResponderAnalysis:
    """The three analyses from the counts (as a database aggregates them)."""
    missing = n_due - n_answered
    return ResponderAnalysis(
        definition=definition,
        n_due=n_due,
        n_evaluable=n_evaluable,
        n_not_evaluable=n_answered - n_evaluable,
        n_missing=missing,
        n_not_yet_due=n_not_yet_due,
        responders=responders,
        complete_case=Proportion.of(responders, n_evaluable),
        worst_case=Proportion.of(responders, n_due),
        best_case=Proportion.of(responders + missing, n_due),
    )
