"""The demo's safety record: adverse events of every grade after treatment, the reports they
make due, most submitted on time, one left overdue for the dashboard to show."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from regenpath.domain.access import Role
from regenpath.domain.episodes import Episode
from regenpath.domain.pathway import Stage
from regenpath.domain.safety import (
    AeCatalogue,
    AeOutcome,
    ConcernLevel,
    Relatedness,
    ReportStatus,
    Seriousness,
)
from regenpath.services import products, safety
from regenpath.services.demo_products import DemoStaff, MovableClock
from regenpath.services.ports import EpisodeQuery, IdFactory, UnitOfWork

# What patients write in the portal's "something worries me", one per clinic, for triage.
PATIENT_WORDS = (
    (
        "My knee has been more swollen and warm since Saturday. No fever. Is this normal?",
        ConcernLevel.QUITE_A_LOT,
    ),
    ("Aching where the marrow was taken, worse at night.", ConcernLevel.A_LITTLE),
)


def patients_report_problems(
    uow: UnitOfWork, clock: MovableClock, new_id: IdFactory, as_of: date
) -> int:
    """One report awaiting triage in each clinic, from a patient in follow-up."""
    with uow:
        found = uow.episodes.find(EpisodeQuery(stage=Stage.FOLLOW_UP, limit=200)).items
    first_of_clinic = {s.episode.clinic_id: s.episode for s in reversed(found)}
    for (words, concern), episode in zip(PATIENT_WORDS, first_of_clinic.values(), strict=False):
        command = safety.ReportProblem(episode.id, words, concern, as_of - timedelta(days=2))
        safety.report_problem(uow, clock, new_id, episode.patient_id, command)
    return min(len(PATIENT_WORDS), len(first_of_clinic))


# One profile per CTCAE grade (AE-1), as clinics see them after orthobiologic injections.
PROFILES: dict[int, tuple[str, frozenset[Seriousness], AeOutcome, Relatedness]] = {
    1: ("POST_FLARE", frozenset(), AeOutcome.RECOVERED, Relatedness.PROBABLE),
    2: ("HARVEST_HEMATOMA", frozenset(), AeOutcome.RECOVERED, Relatedness.UNLIKELY),
    3: (
        "INFECTION",
        frozenset({Seriousness.HOSPITALIZATION, Seriousness.INTERVENTION}),
        AeOutcome.RECOVERED,
        Relatedness.PROBABLE,
    ),
    4: (
        "VTE_PE",
        frozenset({Seriousness.LIFE_THREATENING}),
        AeOutcome.RECOVERING,
        Relatedness.POSSIBLE,
    ),
    5: ("VTE_PE", frozenset({Seriousness.DEATH}), AeOutcome.FATAL, Relatedness.POSSIBLE),
}


@dataclass
class DemoSafety:
    uow: UnitOfWork
    clock: MovableClock
    new_id: IdFactory
    catalogue: AeCatalogue
    rng: random.Random
    grades_left: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])
    hot_lot: str | None = None  # the donor lot the demo gives a cluster of infections

    def _lot_of(self, episode: Episode) -> str | None:
        given = [c.product_id for c in episode.cycles if c.product_id is not None]
        if not given:
            return None
        return products.get_product(self.uow, self.clock, given[-1]).lot_number

    def after_treatment(self, episode: Episode, staff: DemoStaff) -> None:
        """About one treated patient in four reports something; every grade appears once
        before the rest follow the usual mix (mostly mild flares). The recipients of one
        donor lot get infections, as cord-blood clusters have happened (AE-5), so the
        dashboard shows a safety signal."""
        lot = self._lot_of(episode)
        if lot is not None and self.hot_lot in (None, lot) and self.rng.random() < 0.3:
            self.hot_lot = lot
            grade = 3
        elif self.rng.random() > 0.25:
            return
        else:
            grade = (
                self.grades_left.pop(0)
                if self.grades_left
                else self.rng.choice([1, 1, 1, 1, 2, 2, 3])
            )
        term, seriousness, outcome, related = PROFILES[grade]
        # A day or more back, so no clinic's calendar sees it in the future.
        onset = (self.clock.now() - timedelta(days=self.rng.randint(1, 3))).date()
        consented = episode.consented_at or self.clock.now()
        onset_on = max(onset, (consented + timedelta(days=1)).date())
        # Resolved by yesterday at the latest: UTC's today is tomorrow in some clinics.
        resolved_on = max(onset_on, (self.clock.now() - timedelta(days=1)).date())
        safety.record_adverse_event(
            self.uow,
            self.clock,
            self.new_id,
            self.catalogue,
            staff[Role.PHYSICIAN],
            safety.RecordAdverseEvent(
                episode_id=episode.id,
                term_code=term,
                onset_on=onset_on,
                grade=grade,
                seriousness=seriousness,
                outcome=outcome,
                related_product=related,
                resolved_on=None
                if outcome in (AeOutcome.RECOVERING, AeOutcome.FATAL)
                else resolved_on,
                description="Synthetic demo event",
            ),
        )


def submit_reports(
    uow: UnitOfWork, clock: MovableClock, staff: Mapping[UUID, DemoStaff], as_of: date
) -> int:
    """The quality officers submit every report that fell due, three days early, except the
    latest overdue one, left for the dashboard; reports not yet due stay open. Returns how
    many were left overdue."""
    board = safety.reports_board(uow, clock, ReportStatus.OPEN)
    overdue = [r for r in board.reports if r.due_on < as_of]
    for report in overdue[:-1]:
        officer = staff[report.clinic_id][Role.QUALITY_OFFICER]
        submitted = max(report.discovered_on, report.due_on - timedelta(days=3))
        safety.record_submission(
            uow,
            clock,
            officer,
            report.id,
            submitted,
            f"DEMO-{report.rule_id}-{report.due_on:%y%m%d}",
        )
    return 1 if overdue else 0
