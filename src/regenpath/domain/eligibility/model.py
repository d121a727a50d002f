"""The eligibility ruleset's vocabulary: rule kinds, rules, findings, decisions, and the
calendar arithmetic the rules share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class RuleKind(StrEnum):
    HARD = "hard"  # an exclusion no one may override
    SOFT = "soft"  # an exclusion the physician may override with a reason and a signature
    INCLUSION = "inclusion"  # unmet: as SOFT
    INFO = "info"  # recorded, e.g. a risk factor
    TASK = "task"  # something to do, e.g. stop NSAIDs before the harvest


class Verdict(StrEnum):
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    NEEDS_REVIEW = "needs_review"


Parameter = int | float | bool | str | list[int] | list[str]


@dataclass(frozen=True)
class Rule:
    id: str
    kind: RuleKind
    message: str
    source: str
    parameters: Mapping[str, Parameter]
    plain: str = ""  # the same for a patient (the public pre-screen); the message if empty


@dataclass(frozen=True)
class Ruleset:
    version: str
    title: str
    rules: tuple[Rule, ...]

    @property
    def nsaid_codes(self) -> frozenset[str]:
        """EX-10's NSAIDs (RxNorm ingredients): the recovery plan checks the same list."""
        for rule in self.rules:
            codes = rule.parameters.get("nsaid_rxnorm_codes")
            if rule.id == "EX-10" and isinstance(codes, list):
                return frozenset(str(code) for code in codes)
        return frozenset()


@dataclass(frozen=True)
class Check:
    """What one rule saw: whether it applies, triggered, or lacks data."""

    triggered: bool = False
    values: Mapping[str, Any] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    applies: bool = True
    kind: RuleKind | None = None  # a stronger or weaker kind than the rule's, for this case


@dataclass(frozen=True)
class Finding:
    rule_id: str
    kind: RuleKind
    message: str
    source: str
    values: Mapping[str, Any] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    plain: str = ""

    @property
    def lacks_data(self) -> bool:
        return bool(self.missing)


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    findings: tuple[Finding, ...]
    ruleset_version: str

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(sorted({name for f in self.findings for name in f.missing}))

    @property
    def overridable(self) -> bool:
        """Only SOFT exclusions and unmet inclusions may be overridden, never a HARD one."""
        return self.verdict is Verdict.INELIGIBLE and not any(
            f.kind is RuleKind.HARD and not f.lacks_data for f in self.findings
        )


# --- Dates -----------------------------------------------------------------------------------


def full_months(earlier: date, later: date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (1 if later.day < earlier.day else 0)


def years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def within_years(day: date, years: int, today: date) -> bool:
    """``day`` lies less than ``years`` before ``today``: exactly N years ago is outside."""
    return years_after(day, years) > today


def within_months(day: date, months: int, today: date) -> bool:
    return full_months(day, today) < months
