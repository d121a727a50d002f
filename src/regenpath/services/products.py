"""Use cases at the bedside and around the product's record: the bedside check, the injection,
the product page, the lab worklist and the label."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from regenpath.domain.access import StaffMember
from regenpath.domain.audit import AuditAction, AuditOutcome
from regenpath.domain.consent import TreatmentPlan
from regenpath.domain.custody import CustodyKind, TimelineItem, custody_event, product_timeline
from regenpath.domain.donors import Donor
from regenpath.domain.episodes import Episode, TransitionRequest
from regenpath.domain.errors import (
    Guard,
    GuardFailure,
    InvalidValue,
    TransitionRefused,
    refuse_future,
)
from regenpath.domain.followup import SchedulePolicy
from regenpath.domain.isbt128 import Din, parse_din
from regenpath.domain.pathway import Stage
from regenpath.domain.patients import Patient, mrn_key
from regenpath.domain.procedures import (
    Approach,
    Guidance,
    HarvestRecord,
    InjectionRecord,
    InjectionSite,
    TimeOut,
    TimeOutItem,
)
from regenpath.domain.products import (
    BedsideVerification,
    Product,
    ProductStatus,
    VerificationMethod,
    release_blockers,
)
from regenpath.domain.quality import ProcessingStep, QcFinding, evaluate_qc
from regenpath.domain.signatures import Signature
from regenpath.domain.tasks import Deviation, DeviationKind
from regenpath.services.audit import failures_recorded, read_one, record, record_search
from regenpath.services.episodes import check_version, consented_plan, move_loaded
from regenpath.services.errors import InvalidReference, NotFound
from regenpath.services.followup import schedule_cycle
from regenpath.services.lab import LabSettings
from regenpath.services.ports import Clock, IdFactory, ProductQuery, UnitOfWork
from regenpath.services.safety import open_deviation_report


@dataclass(frozen=True)
class BedsideCheck:
    """What the nurse scanned or typed at the bedside (BED-1)."""

    episode_id: UUID
    scanned_din: str
    wristband_mrn: str
    wristband_birth_date: date
    method: VerificationMethod
    second_verifier: str | None = None


@dataclass(frozen=True)
class BedsideOutcome:
    verification: BedsideVerification
    mismatches: list[str]


def verify_at_bedside(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, nurse: StaffMember, check: BedsideCheck
) -> BedsideOutcome:
    """Match wristband to patient and label to the cycle's product, and record the result.

    BED-1 (Joint Commission NPSG.01.01.01, applied by analogy): at least two patient
    identifiers (MRN and birth date, never a room number); the label's DIN against the cycle's
    product; the product released and unexpired (DON-7, EXP-1); one person with a scan or two
    people. A mismatch is a hard stop that blocks the injection and is recorded as a deviation.
    """
    din = parse_din(check.scanned_din, "scanned_din")
    second = (check.second_verifier or "").strip() or None
    if check.method is VerificationMethod.TWO_PERSON and second is None:
        raise InvalidValue("second_verifier", "a two-person check names the second person")
    with failures_recorded(uow, clock, AuditAction.VERIFY, "product", None), uow:
        episode = uow.episodes.get(check.episode_id)
        if episode is None:
            raise NotFound("episode", check.episode_id)
        patient = uow.patients.get(episode.patient_id)
        if patient is None:
            raise NotFound("patient", episode.patient_id)
        cycle = episode.current_cycle
        if cycle is None or cycle.product_id is None:
            raise InvalidReference("scanned_din", "this episode has no product to verify")
        product = uow.products.get(cycle.product_id)
        assert product is not None, "a cycle's product is in its clinic"
        now = clock.now()
        mismatches = _mismatches(check, din, patient, product, now)
        verification = BedsideVerification(
            id=new_id(),
            product_id=product.id,
            patient_id=patient.id,
            method=check.method,
            passed=not mismatches,
            verified_at=now,
            verified_by=nurse.display_name,
            second_verifier=second,
            scanned_din=din.code,
            mismatches=tuple(mismatches),
        )
        uow.products.add_verification(verification)
        if mismatches:
            deviation = Deviation(
                id=new_id(),
                clinic_id=episode.clinic_id,
                kind=DeviationKind.BEDSIDE_MISMATCH,
                description="Bedside check stopped the injection: " + "; ".join(mismatches),
                discovered_at=now,
                recorded_by=nurse.display_name,
                product_id=product.id,
                patient_id=patient.id,
                episode_id=episode.id,
                distributed=product.status is not ProductStatus.IN_PROCESSING,
            )
            uow.tasks.add_deviation(deviation)
            open_deviation_report(uow, clock, new_id, deviation)  # RPT-2 when distributed
        record(
            uow,
            clock,
            AuditAction.VERIFY,
            "product",
            product.id,
            episode.clinic_id,
            outcome=AuditOutcome.DENIED if mismatches else AuditOutcome.SUCCEEDED,
            detail="bedside check: " + ("; ".join(mismatches) or "patient and product match"),
        )
        uow.commit()
    return BedsideOutcome(verification, mismatches)


def _mismatches(
    check: BedsideCheck, din: Din, patient: Patient, product: Product, now: datetime
) -> list[str]:
    mismatches = []
    if mrn_key(check.wristband_mrn) != mrn_key(patient.mrn):
        mismatches.append("the wristband MRN is not this patient's")
    if check.wristband_birth_date != patient.birth_date:
        mismatches.append("the wristband birth date is not this patient's")
    if din.code != product.din:
        mismatches.append(f"the label {din.code} is not this cycle's product {product.din}")
    if product.intended_patient_id not in (None, patient.id):
        mismatches.append("the product is labelled for another patient")
    mismatches += [failure.message.rstrip(".") for failure in release_blockers(product, now)]
    return mismatches


@dataclass(frozen=True)
class RecordInjection:
    episode_id: UUID
    expected_version: int
    guidance: Guidance
    approach: Approach
    sites: Sequence[InjectionSite]
    started_at: datetime
    ended_at: datetime
    image_references: Sequence[str] = ()
    location: str = "Procedure room"
    # SITE-1: the time-out items the team confirmed; the operator leads it, now.
    time_out: frozenset[TimeOutItem] = frozenset()


def record_injection(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    operator: StaffMember,
    command: RecordInjection,
    schedules: SchedulePolicy,
) -> InjectionRecord:
    """The injection record administers the product, moves the cycle on to recovery and
    starts its follow-up schedule (FU-1).

    The domain refuses it without consent, a released unexpired product (DON-7, EXP-1), a
    passed bedside check of this patient and product (BED-1), a complete time-out, and a
    record that differs from the consented plan or the episode's site and side (SITE-1,
    CON-1). Such a difference is a hard stop, and it is kept as a near-miss deviation.
    """
    try:
        return _record_injection(uow, clock, new_id, operator, command, schedules)
    except TransitionRefused as refusal:
        stops = [f for f in refusal.failures if f.guard in NEAR_MISS]
        if stops:
            _record_near_miss(uow, clock, new_id, operator, command.episode_id, stops)
        raise


# The time-out's findings that stopped a wrong procedure, not a missing tick: a near miss.
NEAR_MISS = frozenset(
    {
        Guard.WRONG_SITE,
        Guard.WRONG_SIDE,
        Guard.WRONG_APPROACH,
        Guard.WRONG_GUIDANCE,
        Guard.CONSENT_SCOPE_SESSIONS,
        Guard.CONSENT_SCOPE_CELL_SOURCE,
        Guard.CONSENT_SCOPE_PRODUCT,
    }
)


def _record_near_miss(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    operator: StaffMember,
    episode_id: UUID,
    stops: Sequence[GuardFailure],
) -> None:
    """The stop as a deviation in a transaction of its own (the injection rolled back). The
    product never reached the patient: not distributed, so no Form 3486 clock (RPT-2)."""
    with uow:
        episode = uow.episodes.get(episode_id)
        cycle = episode.current_cycle if episode is not None else None
        if episode is None:
            return
        deviation = Deviation(
            id=new_id(),
            clinic_id=episode.clinic_id,
            kind=DeviationKind.TIME_OUT_STOP,
            description="The time-out stopped the injection: "
            + " ".join(stop.message for stop in stops),
            discovered_at=clock.now(),
            recorded_by=operator.display_name,
            product_id=cycle.product_id if cycle is not None else None,
            patient_id=episode.patient_id,
            episode_id=episode.id,
            distributed=False,
        )
        uow.tasks.add_deviation(deviation)
        record(
            uow,
            clock,
            AuditAction.CREATE,
            "deviation",
            deviation.id,
            episode.clinic_id,
            detail="near miss: " + ", ".join(stop.guard for stop in stops),
        )
        uow.commit()


def _record_injection(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    operator: StaffMember,
    command: RecordInjection,
    schedules: SchedulePolicy,
) -> InjectionRecord:
    with failures_recorded(uow, clock, AuditAction.CREATE, "injection", command.episode_id), uow:
        episode = uow.episodes.get(command.episode_id)
        if episode is None:
            raise NotFound("episode", command.episode_id)
        check_version(episode, command.expected_version)
        cycle = episode.current_cycle
        product = (
            uow.products.get(cycle.product_id)
            if cycle is not None and cycle.product_id is not None
            else None
        )
        if product is None or cycle is None:
            raise InvalidReference("episode_id", "this episode has no product to inject")
        now = clock.now()
        refuse_future("ended_at", command.ended_at, now, "the end of the injection")
        injection = InjectionRecord(
            id=new_id(),
            episode_id=episode.id,
            cycle_number=cycle.number,
            product_id=product.id,
            guidance=command.guidance,
            approach=command.approach,
            sites=tuple(command.sites),
            started_at=command.started_at,
            ended_at=command.ended_at,
            operator=operator.display_name,
            image_references=tuple(r.strip() for r in command.image_references if r.strip()),
            time_out=TimeOut(operator.display_name, now, frozenset(command.time_out)),
        )
        injection.check_against(product.volume_ml)
        request = TransitionRequest(
            plan=consented_plan(uow, episode, Stage.ADMINISTERED),
            to=Stage.ADMINISTERED,
            product=product,
            verification=uow.products.latest_verification(product.id),
            injection=injection,
        )
        move_loaded(uow, clock, episode, request)
        uow.lab.add_injection(injection)
        uow.lab.add_custody(
            custody_event(
                id=new_id(),
                product_id=product.id,
                collected_at=product.collected_at,
                kind=CustodyKind.ADMINISTERED,
                from_party=operator.display_name,
                to_party="Patient",
                location=command.location,
                occurred_at=now,
                recorded_by=operator.display_name,
                now=now,
            )
        )
        move_loaded(uow, clock, episode, TransitionRequest(to=Stage.RECOVERY))
        assert episode.current_cycle is not None, "the injection closed a cycle"
        schedule_cycle(uow, clock, new_id, schedules, episode, episode.current_cycle)
        record(uow, clock, AuditAction.CREATE, "injection", injection.id, episode.clinic_id)
        uow.commit()
    return injection


@dataclass(frozen=True)
class ProductRecord:
    """Everything the product page shows, read in one transaction."""

    product: Product
    status: ProductStatus
    donor: Donor | None
    patient: Patient | None
    episode_id: UUID | None
    harvest: HarvestRecord | None
    steps: list[ProcessingStep]
    findings: list[QcFinding]
    injection: InjectionRecord | None
    verifications: list[BedsideVerification]
    signatures: list[Signature]
    deviations: list[Deviation]
    timeline: list[TimelineItem] = field(default_factory=list)

    @property
    def din(self) -> Din:
        return parse_din(self.product.din)


def product_record(
    uow: UnitOfWork, clock: Clock, lab: LabSettings, product_id: UUID
) -> ProductRecord:
    with failures_recorded(uow, clock, AuditAction.READ, "product", product_id), uow:
        product = uow.products.get(product_id)
        if product is None:
            raise NotFound("product", product_id)
        patient = (
            uow.patients.get(product.intended_patient_id)
            if product.intended_patient_id is not None
            else None
        )
        steps = uow.lab.steps(product.id)
        results = uow.lab.qc_results(product.id)
        custody = uow.lab.custody(product.id)
        checks = uow.products.verifications(product.id)
        signatures = uow.signatures.for_resource("product", product.id)
        items = [
            TimelineItem(
                e.occurred_at,
                "custody",
                e.kind.label,
                f"{e.from_party + ' -> ' if e.from_party else ''}{e.to_party}, {e.location}"
                + (f", {e.temperature_c:g} C" if e.temperature_c is not None else ""),
                e.recorded_by,
            )
            for e in custody
        ]
        items += [
            TimelineItem(s.ended_at, "processing", s.kind.label, s.device, s.performed_by)
            for s in steps
        ]
        items += [
            TimelineItem(r.measured_at, "qc", r.test.measure.label, r.display, r.recorded_by)
            for r in results
        ]
        items += [
            TimelineItem(
                s.signed_at, "signature", f"Signed ({s.meaning})", s.statement or "", s.printed_name
            )
            for s in signatures
        ]
        items += [
            TimelineItem(
                v.verified_at,
                "verification",
                "Bedside check " + ("passed" if v.passed else "FAILED"),
                "; ".join(v.mismatches) or "patient and product match",
                v.verified_by,
            )
            for v in checks
        ]
        detail = ProductRecord(
            product=product,
            status=product.status_at(clock.now()),
            donor=uow.donors.get(product.donor_id) if product.donor_id else None,
            patient=patient,
            episode_id=uow.products.episode_of(product.id),
            harvest=uow.lab.harvest_of(product.id),
            steps=steps,
            findings=evaluate_qc(lab.specifications[product.product_type], results),
            injection=uow.lab.injection_of(product.id),
            verifications=checks,
            signatures=signatures,
            deviations=uow.tasks.deviations(product.id),
            timeline=product_timeline(items),
        )
        record(uow, clock, AuditAction.READ, "product", product.id, product.clinic_id)
        uow.commit()
    return detail


def get_product(uow: UnitOfWork, clock: Clock, product_id: UUID) -> Product:
    return read_one(uow, clock, "product", product_id, lambda: uow.products.get(product_id))


@dataclass(frozen=True)
class ProcedureRoom:
    """What the procedure room needs on one screen: whose episode, which product, and whether
    the bedside check has passed for it (BED-1)."""

    episode: Episode
    patient: Patient
    product: Product | None
    status: ProductStatus | None
    latest_check: BedsideVerification | None
    injection: InjectionRecord | None
    plan: TreatmentPlan | None = None  # the consented plan the form is filled from (SITE-1)

    @property
    def din(self) -> Din | None:
        return parse_din(self.product.din) if self.product is not None else None

    @property
    def cleared_to_inject(self) -> bool:
        return self.latest_check is not None and self.latest_check.passed


def procedure_room(uow: UnitOfWork, clock: Clock, episode_id: UUID) -> ProcedureRoom:
    with failures_recorded(uow, clock, AuditAction.READ, "episode", episode_id), uow:
        episode = uow.episodes.get(episode_id)
        if episode is None:
            raise NotFound("episode", episode_id)
        patient = uow.patients.get(episode.patient_id)
        assert patient is not None, "an episode's patient is in its clinic"
        cycle = episode.current_cycle
        product = (
            uow.products.get(cycle.product_id)
            if cycle is not None and cycle.product_id is not None
            else None
        )
        room = ProcedureRoom(
            episode=episode,
            patient=patient,
            product=product,
            status=product.status_at(clock.now()) if product is not None else None,
            latest_check=(
                uow.products.latest_verification(product.id) if product is not None else None
            ),
            injection=uow.lab.injection_of(product.id) if product is not None else None,
            plan=consented_plan(uow, episode, Stage.ADMINISTERED),
        )
        record(uow, clock, AuditAction.READ, "episode", episode.id, episode.clinic_id)
        uow.commit()
    return room


# The lab's worklist columns, in the order work flows through them.
LAB_COLUMNS = ("received", "processing", "awaiting QC", "released")


@dataclass(frozen=True)
class LabWorklist:
    columns: dict[str, list[Product]]
    now: datetime


def lab_worklist(uow: UnitOfWork, clock: Clock, clinic_id: UUID | None = None) -> LabWorklist:
    """Products still in the lab's hands: received (no step yet), processing, awaiting QC and
    release (quarantine), released and not yet injected."""
    now = clock.now()
    with uow:
        shelf = uow.products.find(
            ProductQuery(
                clinic_id=clinic_id,
                statuses=frozenset(
                    {ProductStatus.IN_PROCESSING, ProductStatus.QUARANTINE, ProductStatus.RELEASED}
                ),
                limit=1000,
            )
        )
        counts = uow.lab.step_counts([p.id for p in shelf])
        columns: dict[str, list[Product]] = {name: [] for name in LAB_COLUMNS}
        for product in shelf:
            if product.status is ProductStatus.IN_PROCESSING:
                column = "processing" if counts.get(product.id) else "received"
            elif product.status is ProductStatus.QUARANTINE:
                column = "awaiting QC"
            else:
                column = "released"
            columns[column].append(product)
        record_search(uow, clock, "product", clinic_id, {"worklist": "lab"}, found=len(shelf))
        uow.commit()
    return LabWorklist(columns, now)


def available_donor_products(uow: UnitOfWork, clock: Clock, clinic_id: UUID) -> list[Product]:
    """Released, unexpired donor products not yet allocated to anyone, soonest expiry first."""
    with uow:
        return uow.products.available_donor_products(clinic_id, clock.now())
