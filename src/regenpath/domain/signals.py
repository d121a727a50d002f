"""Safety signals: adverse-event rates per product lot or donor, clinic and practitioner with a
Wilson interval, and a Bernoulli CUSUM that raises an alert when a group drifts above its
baseline rate (docs/rules.md AE-5 baselines).

The CUSUM (Page 1954; the Bernoulli form of Reynolds and Stoumbos 1999) adds, for each
administration in time order, the log-likelihood ratio of "the rate is ``ratio`` times the
baseline" against "the rate is the baseline": ``ln(ratio)`` for an event, ``ln((1 - p1) /
(1 - p0))`` for none, never going below zero; crossing ``threshold`` is an alert. The
threshold trades detection speed for false alarms; the simulation test measures both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

Z_95 = 1.959963984540054  # the standard normal's 97.5th percentile


def wilson_interval(events: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson's score interval for a proportion (Wilson 1927): sensible at 0 events and in
    small groups, where the normal approximation is not."""
    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= events <= n:
        raise ValueError("events must lie between 0 and n")
    p = events / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Cusum:
    """A Bernoulli CUSUM tuned to detect a ``ratio``-fold rise of a ``baseline`` rate."""

    baseline: float
    ratio: float = 5.0
    threshold: float = 4.5

    def __post_init__(self) -> None:
        if not 0 < self.baseline < 1 or self.ratio <= 1 or self.baseline * self.ratio >= 1:
            raise ValueError("a baseline rate in (0, 1) and a ratio above 1 it can rise by")

    @property
    def event_weight(self) -> float:
        return math.log(self.ratio)

    @property
    def quiet_weight(self) -> float:
        elevated = self.baseline * self.ratio
        return math.log((1 - elevated) / (1 - self.baseline))

    def alarm_at(self, outcomes: Iterable[bool]) -> int | None:
        """The 1-based index of the administration at which the alert is raised, or None."""
        statistic = 0.0
        for index, event in enumerate(outcomes, start=1):
            statistic = max(0.0, statistic + (self.event_weight if event else self.quiet_weight))
            if statistic >= self.threshold:
                return index
        return None


@dataclass(frozen=True)
class Administration:
    """One product given, with what a signal groups it by."""

    product_id: UUID
    clinic_id: UUID
    administered_at: datetime
    operator: str
    clinic_name: str = ""
    lot_number: str | None = None
    donor_id: UUID | None = None
    donor_code: str | None = None


@dataclass(frozen=True)
class GroupSignal:
    """One group (a lot, a donor, a clinic, a practitioner) against its baseline."""

    kind: str  # "lot", "donor", "clinic", "practitioner"
    key: str
    label: str
    administrations: int
    events: int
    baseline: float
    alarm_at: int | None  # the administration at which the CUSUM crossed, if it did
    last: Administration | None = None  # the group's latest administration (for lookback)

    @property
    def rate(self) -> float:
        return self.events / self.administrations if self.administrations else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.events, self.administrations)

    @property
    def alert(self) -> bool:
        return self.alarm_at is not None


def group_signal(
    kind: str,
    key: str,
    label: str,
    outcomes: Sequence[bool],
    cusum: Cusum,
    last: Administration | None = None,
) -> GroupSignal:
    """``outcomes``: one per administration of the group in time order, True where a serious,
    suspected-related adverse event followed it."""
    return GroupSignal(
        kind=kind,
        key=key,
        label=label,
        administrations=len(outcomes),
        events=sum(outcomes),
        baseline=cusum.baseline,
        alarm_at=cusum.alarm_at(outcomes),
        last=last,
    )


# How administrations are grouped, and what each group is called on the dashboard.
GROUPINGS: Mapping[str, Callable[[Administration], tuple[str, str] | None]] = {
    "lot": lambda a: (a.lot_number, a.lot_number) if a.lot_number else None,
    "donor": lambda a: (str(a.donor_id), a.donor_code or str(a.donor_id)) if a.donor_id else None,
    "clinic": lambda a: (str(a.clinic_id), a.clinic_name or "the clinic"),
    "practitioner": lambda a: (a.operator, a.operator),
}


def signals(
    administrations: Sequence[Administration], flagged: set[UUID], cusum: Cusum
) -> list[GroupSignal]:
    """Every group's signal; ``flagged`` holds the products after which a serious,
    suspected-related adverse event was recorded. Alerts first, then by rate."""
    ordered = sorted(administrations, key=lambda a: a.administered_at)
    found: list[GroupSignal] = []
    for kind, key_of in GROUPINGS.items():
        groups: dict[str, tuple[str, list[bool], list[Administration]]] = {}
        for administration in ordered:
            keyed = key_of(administration)
            if keyed is None:
                continue
            key, label = keyed
            _, outcomes, members = groups.setdefault(key, (label, [], []))
            outcomes.append(administration.product_id in flagged)
            members.append(administration)
        found += [
            group_signal(kind, key, label, outcomes, cusum, members[-1])
            for key, (label, outcomes, members) in groups.items()
        ]
    return sorted(found, key=lambda g: (not g.alert, -g.rate, g.kind, g.key))
