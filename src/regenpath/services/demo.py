"""A synthetic demo: two clinics and about two hundred patients spread over every stage.

Everything goes through the same use cases as real work, so the demo obeys every guard (no
injection without consent, a released product and a passed bedside check). Names, MRNs and
dates are invented; the same seed and as-of date give the same clinic, to the byte.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from regenpath.domain.access import LockoutPolicy, Role, StaffMember, UserAccount
from regenpath.domain.eligibility import Ruleset
from regenpath.domain.episodes import Episode
from regenpath.domain.instruments import InstrumentLibrary
from regenpath.domain.pathway import Stage
from regenpath.domain.patients import AdministrativeSex, Clinic, Patient
from regenpath.domain.procedures import Laterality
from regenpath.domain.products import CellSource
from regenpath.domain.safety import AeCatalogue
from regenpath.services import clinics, episodes, identity, patients, products, signatures
from regenpath.services.demo_evaluation import DemoEvaluations
from regenpath.services.demo_followup import seed_follow_up_history
from regenpath.services.demo_products import DemoStaff, ProductSteps, recall_a_donation, seed_donors
from regenpath.services.demo_safety import DemoSafety, patients_report_problems, submit_reports
from regenpath.services.errors import ProbableDuplicate
from regenpath.services.lab import LabSettings
from regenpath.services.ports import PasswordHasher, UnitOfWork

GIVEN = [
    "Avery",
    "Blake",
    "Casey",
    "Devon",
    "Emery",
    "Finley",
    "Harper",
    "Jordan",
    "Kendall",
    "Logan",
    "Morgan",
    "Noel",
    "Oakley",
    "Parker",
    "Quinn",
    "Riley",
    "Sawyer",
    "Taylor",
    "Rowan",
    "Sage",
    "Ellis",
    "Marlow",
    "Reese",
    "Hollis",
    "Arden",
    "Lane",
]
FAMILY = [
    "Abbott",
    "Barlow",
    "Carver",
    "Dalton",
    "Ellery",
    "Fenwick",
    "Garrick",
    "Hale",
    "Ingram",
    "Jessop",
    "Kirkland",
    "Lowell",
    "Merrow",
    "Norcott",
    "Ormsby",
    "Pryce",
    "Quarry",
    "Radley",
    "Stroud",
    "Thackery",
    "Upton",
    "Vance",
    "Whitlock",
    "Yardley",
    "Ashdown",
    "Brigham",
    "Colter",
    "Dunmore",
    "Eastwick",
    "Fairleigh",
]

# (ICD-10-CM code, condition, target, side): the conditions such clinics sell injections for.
CONDITIONS: tuple[tuple[str, str, str, Laterality], ...] = (
    ("M51.36", "Lumbar disc degeneration", "L4-L5 disc", Laterality.NOT_APPLICABLE),
    ("M51.37", "Lumbosacral disc degeneration", "L5-S1 disc", Laterality.NOT_APPLICABLE),
    ("M17.11", "Primary osteoarthritis, right knee", "Knee", Laterality.RIGHT),
    ("M17.12", "Primary osteoarthritis, left knee", "Knee", Laterality.LEFT),
    ("M17.0", "Bilateral primary osteoarthritis of knee", "Knee", Laterality.BILATERAL),
    ("M16.11", "Primary osteoarthritis, right hip", "Hip", Laterality.RIGHT),
    ("M75.41", "Impingement syndrome of right shoulder", "Shoulder", Laterality.RIGHT),
)

# How many of every hundred demo episodes end in each stage: every stage is shown, most
# patients sit where a real clinic has them (in follow-up), and losses are visible.
STAGE_WEIGHTS: dict[Stage, int] = {
    Stage.REFERRED: 7,
    Stage.IN_EVALUATION: 7,
    Stage.ELIGIBLE: 5,
    Stage.INELIGIBLE: 6,
    Stage.CONSENTED: 5,
    Stage.PLANNED: 4,
    Stage.HARVESTED: 3,
    Stage.PROCESSED: 3,
    Stage.RELEASED: 3,
    Stage.PRODUCT_ALLOCATED: 3,
    Stage.RECOVERY: 9,  # the injection record moves on to recovery: none rests in administered
    Stage.FOLLOW_UP: 20,
    Stage.COMPLETED: 12,
    Stage.WITHDRAWN: 5,
    Stage.LOST_TO_FOLLOW_UP: 8,
}

WITHDRAWAL_REASONS = (
    "Patient chose not to proceed after hearing the evidence",
    "Could not afford the self-pay price",
    "Moved away",
    "Opted for surgery instead",
)


class DemoClock:
    """A clock the demo moves by hand, so each record gets a plausible time."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass
class DemoSummary:
    clinics: list[Clinic] = field(default_factory=list)
    patients: int = 0
    by_stage: dict[Stage, int] = field(default_factory=dict)
    donor_products: int = 0
    recall_tasks: int = 0
    overdue_reports: int = 0
    questionnaires: int = 0
    patient_reports: int = 0
    users: list[UserAccount] = field(default_factory=list)


def demo_username(clinic: Clinic, role: Role) -> str:
    return f"{role.value.replace('_', '-')}.{clinic.name.split()[0].lower()}"


def demo_password(username: str) -> str:
    """Demo accounts only: the password is printed in the README and by `regenpath demo`."""
    return f"demo-{username}"


# Synthetic staff names, one per role: the printed names under the demo's signatures.
DEMO_STAFF_NAMES: dict[Role, str] = {
    Role.COORDINATOR: "Casey Morrow",
    Role.PHYSICIAN: "Dr. Jordan Ellery",
    Role.LAB_TECHNICIAN: "Sam Okafor",
    Role.NURSE: "Robin Hale",
    Role.QUALITY_OFFICER: "Alex Fenwick",
    Role.REGISTRY_ANALYST: "Morgan Lane",
    Role.CLINIC_ADMIN: "Taylor Reese",
}


def _seed_user(
    uow: UnitOfWork,
    clock: DemoClock,
    new_id: Callable[[], UUID],
    hasher: PasswordHasher,
    clinic: Clinic,
    role: Role,
) -> UserAccount:
    username = demo_username(clinic, role)
    return identity.create_user(
        uow,
        clock,
        new_id,
        hasher,
        username=username,
        display_name=f"{DEMO_STAFF_NAMES[role]} ({clinic.name.split()[0]})",
        password=demo_password(username),
        memberships={clinic.id: role},
    )


def seed_demo(
    uow: UnitOfWork,
    *,
    seed: int = 7,
    patient_count: int = 200,
    as_of: date,
    lab_settings: LabSettings,
    ruleset: Ruleset,
    ae_catalogue: AeCatalogue,
    hasher: PasswordHasher,
    instruments: InstrumentLibrary | None = None,
    on_patient: Callable[[], None] = lambda: None,
) -> DemoSummary:
    """Fill an empty database with the demo; ``on_patient`` ticks a progress bar."""
    rng = random.Random(seed)
    end = datetime.combine(as_of, time(12, 0), tzinfo=UTC)
    clock = DemoClock(end - timedelta(days=800))

    def new_id() -> UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    summary = DemoSummary()
    for name, zone, phone in (  # 555-01xx: numbers reserved for fiction
        ("Riverside Spine & Joint Clinic", "America/Chicago", "+1 312 555 0142"),
        ("Harbour Orthobiologics", "America/Los_Angeles", "+1 415 555 0187"),
    ):
        summary.clinics.append(
            clinics.create_clinic(uow, clock, new_id, name=name, time_zone=zone, phone=phone)
        )

    physicians: dict[UUID, StaffMember] = {}
    for clinic in summary.clinics:
        for role in Role:
            user = _seed_user(uow, clock, new_id, hasher, clinic, role)
            summary.users.append(user)
            if role is Role.PHYSICIAN:
                physicians[clinic.id] = user.as_staff()

    staff_of: dict[UUID, DemoStaff] = {}
    for clinic in summary.clinics:
        members = {
            user.memberships[clinic.id]: user.as_staff()
            for user in summary.users
            if clinic.id in user.memberships
        }
        staff_of[clinic.id] = DemoStaff(members, demo_password, hasher)
        summary.donor_products += seed_donors(
            uow, clock, new_id, lab_settings, clinic, staff_of[clinic.id]
        )

    stages = list(STAGE_WEIGHTS)
    weights = list(STAGE_WEIGHTS.values())
    demo_safety = DemoSafety(uow, clock, new_id, ae_catalogue, rng)
    # One set of product steps per clinic: what it shows once (a time-out's near miss)
    # happens once per clinic, not once per patient.
    product_steps = {
        clinic.id: ProductSteps(uow, clock, new_id, lab_settings, staff_of[clinic.id], rng)
        for clinic in summary.clinics
    }
    for n in range(patient_count):
        clinic = summary.clinics[n % len(summary.clinics)]
        target = rng.choices(stages, weights)[0]
        walk = _Walk(
            uow,
            rng,
            clock,
            new_id,
            clinic,
            hasher,
            physicians[clinic.id],
            product_steps[clinic.id],
            DemoEvaluations(
                uow,
                clock,
                new_id,
                ruleset,
                physicians[clinic.id],
                demo_password(physicians[clinic.id].username),
                hasher,
                rng,
            ),
        )
        steps = list(_path_to(target, rng))
        # Start far enough back that the whole path ends before the as-of date.
        clock.current = end - timedelta(days=_days_needed(steps) + rng.randint(1, 45))
        patient = walk.register(n)
        episode = walk.open(patient)
        for step in steps:
            episode = walk.step(episode, patient, step)
        if episode.stage is Stage.IN_EVALUATION and rng.random() < 0.6:
            walk.evaluations.start(episode, patient)
        if episode.stage in TREATED:
            demo_safety.after_treatment(episode, staff_of[clinic.id])
        summary.patients += 1
        summary.by_stage[episode.stage] = summary.by_stage.get(episode.stage, 0) + 1
        on_patient()
    clock.current = end - timedelta(days=2)
    for clinic in summary.clinics:
        summary.recall_tasks += recall_a_donation(uow, clock, new_id, clinic)
    clock.current = end
    summary.overdue_reports = submit_reports(uow, clock, staff_of, as_of)
    if instruments is not None:
        summary.questionnaires = seed_follow_up_history(uow, new_id, instruments, rng, as_of)
    summary.patient_reports = patients_report_problems(uow, clock, new_id, as_of)
    return summary


# Where a patient has been treated, and may report an adverse event.
TREATED = frozenset({Stage.RECOVERY, Stage.FOLLOW_UP, Stage.COMPLETED, Stage.LOST_TO_FOLLOW_UP})

# A path step: the stage to move to and, for planning, the cell source.
_Step = tuple[Stage, CellSource | None]

_DAYS_BEFORE: dict[Stage, float] = {
    Stage.IN_EVALUATION: 3,
    Stage.ELIGIBLE: 10,
    Stage.INELIGIBLE: 10,
    Stage.CONSENTED: 7,
    Stage.PLANNED: 5,
    Stage.HARVESTED: 14,
    Stage.PROCESSED: 0.08,
    Stage.RELEASED: 0.05,
    Stage.PRODUCT_ALLOCATED: 10,
    Stage.ADMINISTERED: 0.05,
    Stage.RECOVERY: 0.2,
    Stage.FOLLOW_UP: 21,  # x 0.7-1.3: never before the 14-day recovery is over (RCV-1)
    Stage.COMPLETED: 365,
    Stage.WITHDRAWN: 6,
    Stage.LOST_TO_FOLLOW_UP: 120,
}


def _days_needed(steps: list[_Step]) -> int:
    # Each step takes up to 1.3 times its typical delay (see _Walk.step).
    return int(1.3 * sum(_DAYS_BEFORE[stage] for stage, _ in steps)) + 1


def _path_to(target: Stage, rng: random.Random) -> Iterator[_Step]:
    source = CellSource.AUTOLOGOUS if rng.random() < 0.7 else CellSource.ALLOGENEIC
    if target is Stage.PRODUCT_ALLOCATED:
        source = CellSource.ALLOGENEIC
    elif target in (Stage.HARVESTED, Stage.PROCESSED, Stage.RELEASED):
        source = CellSource.AUTOLOGOUS
    if target is Stage.REFERRED:
        return
    if target is Stage.WITHDRAWN:
        # Withdraw from somewhere along the way, as patients do.
        before = rng.choice([Stage.IN_EVALUATION, Stage.ELIGIBLE, Stage.CONSENTED, Stage.FOLLOW_UP])
        yield from _path_to(before, rng)
        yield (Stage.WITHDRAWN, None)
        return
    if target is Stage.INELIGIBLE:
        yield (Stage.IN_EVALUATION, None)
        yield (Stage.INELIGIBLE, None)
        return
    treatment: list[Stage] = (
        [Stage.HARVESTED, Stage.PROCESSED, Stage.RELEASED]
        if source is CellSource.AUTOLOGOUS
        else [Stage.PRODUCT_ALLOCATED]
    )
    full = [Stage.IN_EVALUATION, Stage.ELIGIBLE, Stage.CONSENTED, Stage.PLANNED, *treatment]
    full += [Stage.ADMINISTERED, Stage.RECOVERY, Stage.FOLLOW_UP]
    if target is Stage.COMPLETED:
        full.append(Stage.COMPLETED)
    elif target is Stage.LOST_TO_FOLLOW_UP:
        full.append(Stage.LOST_TO_FOLLOW_UP)
    for stage in full:
        yield (stage, source if stage in (Stage.CONSENTED, Stage.PLANNED) else None)
        if stage is target:
            break
    if target is Stage.FOLLOW_UP and source is CellSource.AUTOLOGOUS and rng.random() < 0.15:
        # A repeat treatment cycle, still in the same episode: the patient first consents to
        # one more session (a new plan version, signed again; CON-1), with the same cells.
        yield (Stage.CONSENTED, source)
        yield (Stage.PLANNED, source)
        for stage in (*treatment, Stage.ADMINISTERED):
            yield (stage, None)
        yield (Stage.RECOVERY, None)
        yield (Stage.FOLLOW_UP, None)


@dataclass
class _Walk:
    uow: UnitOfWork
    rng: random.Random
    clock: DemoClock
    new_id: Callable[[], UUID]
    clinic: Clinic
    hasher: PasswordHasher
    physician: StaffMember
    products: ProductSteps
    evaluations: DemoEvaluations

    def register(self, n: int) -> Patient:
        prefix = "RS" if "Riverside" in self.clinic.name else "HB"
        birth = date(1950, 1, 1) + timedelta(days=self.rng.randint(0, 365 * 52))
        details = patients.PatientDetails(
            clinic_id=self.clinic.id,
            mrn=f"{prefix}-{100000 + n:06d}",
            family_name=self.rng.choice(FAMILY),
            given_name=self.rng.choice(GIVEN),
            birth_date=birth,
            sex=self.rng.choice([AdministrativeSex.FEMALE, AdministrativeSex.MALE]),
            phone=f"+1 555 01{n % 100:02d}",
            # example.org is reserved for examples (RFC 2606): no mail reaches anyone.
            # One patient in five gave none, so the ladder's call rung comes first.
            email=f"{prefix.lower()}-{100000 + n:06d}@example.org" if n % 5 else None,
        )
        while True:
            try:
                return patients.register_patient(self.uow, self.clock, self.new_id, details)
            except ProbableDuplicate:
                # The few names drawn again on one birthday: another synthetic person is
                # born a day later (ID-2 would rightly stop a clinic's second registration).
                details = replace(details, birth_date=details.birth_date + timedelta(days=1))

    def open(self, patient: Patient) -> Episode:
        code, text, target, side = self.rng.choice(CONDITIONS)
        return episodes.open_episode(
            self.uow,
            self.clock,
            self.new_id,
            episodes.EpisodeDetails(patient.id, code, text, target, side),
        )

    def step(self, episode: Episode, patient: Patient, step: _Step) -> Episode:
        stage, source = step
        self.clock.advance(timedelta(days=_DAYS_BEFORE[stage] * self.rng.uniform(0.7, 1.3)))
        if stage is Stage.RECOVERY and episode.stage is Stage.RECOVERY:
            return episode  # the injection record already started recovery
        recorded = self._record(episode, patient, stage, source)
        if recorded is not None:
            return recorded
        product_id = None
        if stage is Stage.PRODUCT_ALLOCATED:
            stock = products.available_donor_products(self.uow, self.clock, episode.clinic_id)
            product_id = stock[0].id if stock else None
        reason = None
        if stage is Stage.WITHDRAWN:
            reason = self.rng.choice(WITHDRAWAL_REASONS)
        elif stage is Stage.LOST_TO_FOLLOW_UP:
            reason = "No answer to three calls and two letters"
        result = episodes.transition_episode(
            self.uow,
            self.clock,
            self.new_id,
            episodes.TransitionCommand(
                episode_id=episode.id,
                to=stage,
                expected_version=episode.version,
                reason=reason,
                cell_source=source,
                product_id=product_id,
            ),
        )
        return result.episode

    def _record(
        self, episode: Episode, patient: Patient, stage: Stage, source: CellSource | None
    ) -> Episode | None:
        """The stages reached through a record (a decision, a signature, a product step),
        made the way the clinic makes it; None for a plain move."""
        product_step = {
            Stage.HARVESTED: self.products.harvest,
            Stage.PROCESSED: self.products.process,
            Stage.RELEASED: self.products.release,
        }.get(stage)
        if product_step is not None:
            product_step(episode)
        elif stage is Stage.ADMINISTERED:
            self.products.inject(episode, patient)
        elif stage in (Stage.ELIGIBLE, Stage.INELIGIBLE):
            return self.evaluations.decide(episode, patient, eligible=stage is Stage.ELIGIBLE)
        elif stage is Stage.CONSENTED and episode.cycles:
            return self.evaluations.reconsent(episode, patient)
        elif stage is Stage.CONSENTED:
            return self.evaluations.consent(episode, patient, source or CellSource.AUTOLOGOUS)
        elif stage is Stage.COMPLETED:
            return signatures.close_episode(
                self.uow,
                self.clock,
                self.new_id,
                self.hasher,
                LockoutPolicy(),
                self.physician,
                signatures.CloseEpisode(
                    episode_id=episode.id,
                    expected_version=episode.version,
                    password=demo_password(self.physician.username),
                    statement="Follow-up complete",
                ),
            ).episode
        else:
            return None
        return episodes.get_episode(self.uow, self.clock, episode.id)
