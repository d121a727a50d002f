"""The demo's product side: donors and their stock, and each product step of a patient's cycle
through the same use cases as real work (harvest record, processing, QC, signed release,
bedside check, injection record). Every product status appears; all of it is synthetic."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Protocol
from uuid import UUID

from regenpath.domain.access import LockoutPolicy, Role, StaffMember
from regenpath.domain.custody import CustodyKind
from regenpath.domain.donors import (
    DonorTest,
    DonorTissue,
    Screening,
    SpecimenSource,
    TestResult,
    required_tests,
)
from regenpath.domain.episodes import Episode
from regenpath.domain.errors import TransitionRefused
from regenpath.domain.followup import DEFAULT_SCHEDULE, SchedulePolicy
from regenpath.domain.patients import Clinic, Patient
from regenpath.domain.procedures import (
    AdiposeMethod,
    Anaesthesia,
    HarvestSite,
    HarvestSource,
    InjectionSite,
    Side,
    TimeOutItem,
)
from regenpath.domain.products import DonorEligibility, Product, ProductType, VerificationMethod
from regenpath.domain.quality import ProcessingKind, QcTest
from regenpath.domain.timeout import approaches_for, usual_side
from regenpath.services import donors, lab, lookback, products
from regenpath.services.ports import Clock, PasswordHasher, UnitOfWork
from regenpath.services.signatures import Signer


@dataclass
class DemoStaff:
    """The clinic's people the product steps need, with the demo passwords they sign with."""

    by_role: dict[Role, StaffMember]
    password_of: Callable[[str], str]
    hasher: PasswordHasher

    def __getitem__(self, role: Role) -> StaffMember:
        return self.by_role[role]

    def signer(self, role: Role, statement: str | None = None) -> Signer:
        staff = self.by_role[role]
        return Signer(
            staff,
            self.password_of(staff.username),
            self.hasher,
            LockoutPolicy(),
            statement=statement,
        )


# (donor code suffix, determination, products): two eligible donors whose stock is used, one
# still incomplete (quarantined, DON-5), one ineligible (HBsAg reactive, blocked, DON-6).
_DONORS = (("A", True, 21), ("B", True, 20), ("C", None, 3), ("D", False, 2))


def seed_donors(
    uow: UnitOfWork,
    clock: Clock,
    new_id: Callable[[], UUID],
    settings: lab.LabSettings,
    clinic: Clinic,
    staff: DemoStaff,
) -> int:
    """Donors with tests, signed determinations and received stock; one product rejected."""
    technician = staff[Role.LAB_TECHNICIAN]
    now = clock.now()
    received = 0
    for suffix, eligible, count in _DONORS:
        donor = donors.register_donor(
            uow,
            clock,
            new_id,
            donors.RegisterDonor(
                clinic_id=clinic.id,
                code=f"DNR-{clinic.name[:2].upper()}-{now:%y}-{suffix}",
                tissue=DonorTissue.UMBILICAL_CORD,
                living=False,
                recovered_at=now - timedelta(days=3),
                screening=Screening.NO_RISK_FACTORS,
            ),
        )
        tests = sorted(required_tests(donor))
        if eligible is None:
            tests = tests[:4]  # results still outstanding: the determination stays incomplete
        for test in tests:
            reactive = eligible is False and test is DonorTest.HBSAG
            donors.record_donor_test(
                uow,
                clock,
                new_id,
                technician,
                donors.RecordDonorTest(
                    donor_id=donor.id,
                    test=test,
                    result=TestResult.REACTIVE if reactive else TestResult.NONREACTIVE,
                    specimen_collected_at=donor.recovered_at,
                    specimen_source=SpecimenSource.BIRTH_MOTHER,
                    assay="Licensed donor-screening assay (synthetic)",
                ),
            )
        if eligible is not None:
            decision = DonorEligibility.ELIGIBLE if eligible else DonorEligibility.INELIGIBLE
            donors.determine_eligibility(
                uow,
                clock,
                new_id,
                staff.signer(Role.LAB_TECHNICIAN, f"Donor {decision}"),
                donor.id,
                decision,
                None if eligible else "HBsAg reactive",
            )
        for n in range(count):
            product = donors.receive_donor_product(
                uow,
                clock,
                new_id,
                settings,
                technician,
                donors.ReceiveDonorProduct(
                    donor_id=donor.id,
                    product_type=ProductType.UMBILICAL_CORD_MSC,
                    volume_ml=5.0,
                    lot_number=f"LOT-{suffix}{now:%y%m}",
                    temperature_c=-150.0,
                ),
            )
            received += 1
            if eligible:
                viability = 55.0 if suffix == "A" and n == 0 else 88.0 + (n % 7)
                _qc(uow, clock, new_id, technician, product, viability=viability, volume=5.0)
                lab.decide_release(
                    uow,
                    clock,
                    new_id,
                    settings,
                    staff.signer(Role.LAB_TECHNICIAN),
                    product.id,
                    release=viability >= 70,
                    reason=None if viability >= 70 else "Viability 55 % below 70 % (QC-1)",
                )
    return received


def _qc(
    uow: UnitOfWork,
    clock: Clock,
    new_id: Callable[[], UUID],
    technician: StaffMember,
    product: Product,
    **values: float,
) -> None:
    at = clock.now() - timedelta(minutes=5)
    for name, value in values.items():
        lab.record_qc_result(
            uow,
            clock,
            new_id,
            technician,
            lab.RecordQcResult(product.id, QcTest(name), at, value=value, method="Cell counter"),
        )


class MovableClock(Clock, Protocol):
    """The demo's clock: the walk moves it on between the steps of a procedure."""

    def advance(self, delta: timedelta) -> None: ...


@dataclass
class ProductSteps:
    """The product steps of one patient's cycle, walked on the demo clock."""

    uow: UnitOfWork
    clock: MovableClock
    new_id: Callable[[], UUID]
    settings: lab.LabSettings
    staff: DemoStaff
    rng: random.Random
    schedules: SchedulePolicy = field(
        default_factory=lambda: SchedulePolicy.parse(DEFAULT_SCHEDULE, {})
    )
    near_miss_shown: bool = False

    def harvest(self, episode: Episode) -> None:
        now = self.clock.now()
        with self.uow:
            plan = self.uow.evaluations.latest_plan(episode.id)
        # The harvest the consented plan names (CON-1): marrow for BMAC, else fat.
        marrow = plan is None or plan.product_type in (ProductType.BMAC, ProductType.BMA)
        lab.record_harvest(
            self.uow,
            self.clock,
            self.new_id,
            self.settings,
            self.staff[Role.PHYSICIAN],
            lab.RecordHarvest(
                episode_id=episode.id,
                expected_version=episode.version,
                product_type=ProductType.BMAC if marrow else ProductType.MICROFRAGMENTED_ADIPOSE,
                source=HarvestSource.BONE_MARROW if marrow else HarvestSource.ADIPOSE,
                site=HarvestSite.POSTERIOR_ILIAC_CREST if marrow else HarvestSite.ABDOMEN,
                side=self.rng.choice([Side.LEFT, Side.RIGHT, Side.BILATERAL]),
                method=None if marrow else AdiposeMethod.SYRINGE_LIPOASPIRATION,
                anaesthesia=Anaesthesia.LOCAL_WITH_SEDATION,
                volume_ml=float(self.rng.choice([60, 90, 120])) if marrow else 100.0,
                started_at=now - timedelta(minutes=self.rng.randint(25, 45)),
                ended_at=now,
                nsaids_stopped=True,
                anticoagulants_reviewed=True,
            ),
        )

    def process(self, episode: Episode) -> None:
        product = self._product(episode)
        technician = self.staff[Role.LAB_TECHNICIAN]
        lab.record_custody(
            self.uow,
            self.clock,
            self.new_id,
            technician,
            lab.RecordCustody(
                product_id=product.id,
                kind=CustodyKind.RECEIVED,
                from_party=self.staff[Role.PHYSICIAN].display_name,
                to_party=technician.display_name,
                location="Cell lab",
                occurred_at=product.collected_at + timedelta(minutes=10),
                temperature_c=21.0,
            ),
        )
        start = product.collected_at + timedelta(minutes=15)
        for kind, minutes in (
            (ProcessingKind.CENTRIFUGATION, 15),
            (ProcessingKind.CONCENTRATION, 10),
        ):
            lab.add_processing_step(
                self.uow,
                self.clock,
                self.new_id,
                technician,
                lab.AddProcessingStep(
                    product.id, kind, start, start + timedelta(minutes=minutes), "Centrifuge CF-2"
                ),
            )
            start += timedelta(minutes=minutes + 2)
        _qc(
            self.uow,
            self.clock,
            self.new_id,
            technician,
            product,
            viability=float(self.rng.randint(80, 97)),
            tnc_per_ml=float(self.rng.randint(40, 120)),
            volume=6.0,
        )
        lab.finish_processing(self.uow, self.clock, product.id)

    def release(self, episode: Episode) -> None:
        lab.decide_release(
            self.uow,
            self.clock,
            self.new_id,
            self.settings,
            self.staff.signer(Role.LAB_TECHNICIAN, "Released after QC review"),
            self._product(episode).id,
            release=True,
        )

    def inject(self, episode: Episode, patient: Patient) -> None:
        product = self._product(episode)
        nurse = self.staff[Role.NURSE]
        if self.rng.random() < 0.08:
            # A wristband from the wrong patient: the hard stop and its deviation (BED-1).
            self._check(episode, nurse, product, patient.mrn + "9")
            self.clock.advance(timedelta(minutes=2))
        self._check(episode, nurse, product, patient.mrn)
        started = self.clock.now() + timedelta(minutes=1)
        self.clock.advance(timedelta(minutes=20))
        volume = min(product.volume_ml or 2.0, 2.0)
        with self.uow:
            plan = self.uow.evaluations.latest_plan(episode.id)
        assert plan is not None, "the demo injects only what was planned and consented"
        side = usual_side(episode.laterality)
        # The procedure-room form is filled from the consented plan (SITE-1).
        command = products.RecordInjection(
            episode_id=episode.id,
            expected_version=episode.version,
            guidance=plan.guidance,
            approach=approaches_for(episode.target_site)[0],
            sites=[
                InjectionSite(
                    target=plan.targets[0],
                    laterality=side,
                    volume_ml=volume,
                    cell_dose_million=round(volume * self.rng.uniform(40, 110), 1),
                )
            ],
            started_at=started,
            ended_at=self.clock.now(),
            image_references=[f"PACS-{self.rng.randint(100000, 999999)}"],
            time_out=frozenset(TimeOutItem),
        )
        if side in (Side.LEFT, Side.RIGHT) and not self.near_miss_shown:
            # Once per demo: the other side typed in; the time-out stops it and it is kept
            # as a near-miss deviation, then the right side is recorded.
            self.near_miss_shown = True
            wrong = Side.RIGHT if side is Side.LEFT else Side.LEFT
            try:
                products.record_injection(
                    self.uow,
                    self.clock,
                    self.new_id,
                    self.staff[Role.PHYSICIAN],
                    replace(command, sites=[replace(command.sites[0], laterality=wrong)]),
                    self.schedules,
                )
            except TransitionRefused:
                pass
            else:  # pragma: no cover - the guard is what the demo shows
                raise AssertionError("the time-out let the wrong side through")
        products.record_injection(
            self.uow,
            self.clock,
            self.new_id,
            self.staff[Role.PHYSICIAN],
            command,
            self.schedules,
        )

    def _check(self, episode: Episode, nurse: StaffMember, product: Product, mrn: str) -> None:
        patient = self._patient(episode)
        products.verify_at_bedside(
            self.uow,
            self.clock,
            self.new_id,
            nurse,
            products.BedsideCheck(
                episode_id=episode.id,
                scanned_din=product.din,
                wristband_mrn=mrn,
                wristband_birth_date=patient.birth_date,
                method=VerificationMethod.BARCODE_SCAN,
            ),
        )

    def _patient(self, episode: Episode) -> Patient:
        with self.uow:
            patient = self.uow.patients.get(episode.patient_id)
        assert patient is not None
        return patient

    def _product(self, episode: Episode) -> Product:
        cycle = episode.current_cycle
        assert cycle is not None and cycle.product_id is not None
        with self.uow:
            product = self.uow.products.get(cycle.product_id)
        assert product is not None
        return product


def recall_a_donation(
    uow: UnitOfWork, clock: Clock, new_id: Callable[[], UUID], clinic: Clinic
) -> int:
    """The supplier recalls one donation that reached patients: lookback and recall tasks."""
    with uow:
        candidates = [
            d for d in uow.donors.all(clinic.id) if d.eligibility is DonorEligibility.ELIGIBLE
        ]
        used = {
            d.id: sum(1 for p in uow.products.for_donor(d.id) if p.administered_at)
            for d in candidates
        }
    if not used or max(used.values()) == 0:
        return 0
    donor_id = max(used, key=lambda k: used[k])
    result = lookback.recall(
        uow,
        clock,
        new_id,
        reason="Supplier notice: sterility failure in the donation's retained sample",
        donor_id=donor_id,
    )
    return len(result.tasks)
