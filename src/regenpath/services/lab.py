"""Use cases of the lab and the procedure room: harvest, processing, QC, release, custody.

Every write is one transaction with its audit entry; a step that moves the episode along
(harvest -> harvested, finished processing -> processed, release -> released) moves it in the
same transaction, so the product and the pathway never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from regenpath.domain.access import StaffMember
from regenpath.domain.audit import AuditAction
from regenpath.domain.custody import CustodyEvent, CustodyKind, custody_event
from regenpath.domain.episodes import TransitionRequest
from regenpath.domain.errors import (
    Guard,
    GuardFailure,
    InvalidValue,
    TransitionRefused,
    refuse_future,
)
from regenpath.domain.isbt128 import Din
from regenpath.domain.pathway import Stage
from regenpath.domain.procedures import (
    AdiposeMethod,
    Anaesthesia,
    HarvestRecord,
    HarvestSite,
    HarvestSource,
    Side,
)
from regenpath.domain.products import Product, ProductStatus, ProductType
from regenpath.domain.quality import (
    DEFAULT_RELEASE_SPECIFICATIONS,
    ProcessingKind,
    ProcessingStep,
    QcOutcome,
    QcResult,
    QcTest,
    ReleaseSpecification,
    evaluate_qc,
    qc_failures,
)
from regenpath.domain.tasks import Deviation, DeviationKind, Task, TaskKind
from regenpath.services.audit import failures_recorded, record
from regenpath.services.episodes import check_version, consented_plan, move_loaded
from regenpath.services.errors import NotFound
from regenpath.services.ports import Clock, IdFactory, UnitOfWork
from regenpath.services.safety import open_deviation_report
from regenpath.services.signatures import Signer, add_signature


@dataclass(frozen=True)
class LabSettings:
    """The clinic's product rules: ICCBBA facility code, hold times, release specifications."""

    facility: str
    max_hold: Mapping[ProductType, timedelta]
    specifications: Mapping[ProductType, ReleaseSpecification] = field(
        default_factory=lambda: dict(DEFAULT_RELEASE_SPECIFICATIONS)
    )

    def new_din(self, uow: UnitOfWork, now: datetime) -> Din:
        year = now.year % 100
        return Din(self.facility, year, uow.products.next_din_sequence(self.facility, year))


# Which product types each harvest source can make.
_TYPES_OF_SOURCE: dict[HarvestSource, frozenset[ProductType]] = {
    HarvestSource.BONE_MARROW: frozenset({ProductType.BMA, ProductType.BMAC}),
    HarvestSource.ADIPOSE: frozenset(
        {ProductType.MICROFRAGMENTED_ADIPOSE, ProductType.ADIPOSE_SVF}
    ),
}


@dataclass(frozen=True)
class RecordHarvest:
    episode_id: UUID
    expected_version: int
    product_type: ProductType
    source: HarvestSource
    site: HarvestSite
    side: Side
    anaesthesia: Anaesthesia
    volume_ml: float
    started_at: datetime
    ended_at: datetime
    method: AdiposeMethod | None = None
    complications: str | None = None
    nsaids_stopped: bool = False
    anticoagulants_reviewed: bool = False
    location: str = "Procedure room"


@dataclass(frozen=True)
class HarvestResult:
    harvest: HarvestRecord
    product: Product
    din: Din


def record_harvest(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    lab: LabSettings,
    operator: StaffMember,
    command: RecordHarvest,
) -> HarvestResult:
    """The harvest record makes the product (with its DIN) and moves the cycle to harvested.

    The domain refuses it without consent (DESIGN.md s.2) or on an allogeneic cycle; EXP-1
    counts the hold time from the end of the harvest.
    """
    with failures_recorded(uow, clock, AuditAction.CREATE, "harvest", command.episode_id), uow:
        episode = uow.episodes.get(command.episode_id)
        if episode is None:
            raise NotFound("episode", command.episode_id)
        check_version(episode, command.expected_version)
        if command.product_type not in _TYPES_OF_SOURCE[command.source]:
            raise InvalidValue(
                "product_type", f"a {command.source} harvest does not make {command.product_type}"
            )
        now = clock.now()
        refuse_future("ended_at", command.ended_at, now, "the end of the harvest")
        din = lab.new_din(uow, now)
        product = Product.harvest(
            id=new_id(),
            clinic_id=episode.clinic_id,
            patient_id=episode.patient_id,
            collected_at=command.ended_at,
            max_hold=lab.max_hold[command.product_type],
            din=din.code,
            product_type=command.product_type,
        )
        cycle = episode.current_cycle
        harvest = HarvestRecord(
            id=new_id(),
            episode_id=episode.id,
            cycle_number=cycle.number if cycle is not None else 0,
            product_id=product.id,
            source=command.source,
            site=command.site,
            side=command.side,
            anaesthesia=command.anaesthesia,
            volume_ml=command.volume_ml,
            started_at=command.started_at,
            ended_at=command.ended_at,
            operator=operator.display_name,
            method=command.method,
            complications=(command.complications or "").strip() or None,
            nsaids_stopped=command.nsaids_stopped,
            anticoagulants_reviewed=command.anticoagulants_reviewed,
        )
        uow.products.add(product)
        move_loaded(
            uow,
            clock,
            episode,
            TransitionRequest(
                to=Stage.HARVESTED,
                product=product,
                plan=consented_plan(uow, episode, Stage.HARVESTED),
            ),
        )
        uow.lab.add_harvest(harvest)
        uow.lab.add_custody(
            custody_event(
                id=new_id(),
                product_id=product.id,
                collected_at=product.collected_at,
                kind=CustodyKind.COLLECTED,
                from_party=None,
                to_party=operator.display_name,
                location=command.location,
                occurred_at=product.collected_at,
                recorded_by=operator.display_name,
                now=now,
            )
        )
        record(uow, clock, AuditAction.CREATE, "harvest", harvest.id, episode.clinic_id)
        record(
            uow,
            clock,
            AuditAction.CREATE,
            "product",
            product.id,
            episode.clinic_id,
            detail=din.code,
        )
        uow.commit()
    return HarvestResult(harvest, product, din)


def _audit_update(uow: UnitOfWork, clock: Clock, product: Product, detail: str) -> None:
    record(uow, clock, AuditAction.UPDATE, "product", product.id, product.clinic_id, detail=detail)


def _product(uow: UnitOfWork, product_id: UUID) -> Product:
    product = uow.products.get(product_id)
    if product is None:
        raise NotFound("product", product_id)
    return product


def _before_release(product: Product) -> None:
    if product.status not in (ProductStatus.IN_PROCESSING, ProductStatus.QUARANTINE):
        raise TransitionRefused(
            [
                GuardFailure(
                    Guard.PRODUCT_NOT_AWAITING_RELEASE,
                    f"The product is {product.status.label.lower()}; processing is recorded "
                    "before release.",
                )
            ]
        )


@dataclass(frozen=True)
class AddProcessingStep:
    product_id: UUID
    kind: ProcessingKind
    started_at: datetime
    ended_at: datetime
    device: str
    notes: str | None = None


def add_processing_step(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, staff: StaffMember, command: AddProcessingStep
) -> ProcessingStep:
    """One processing step, recorded when done with who, when and the device (REC-1)."""
    with failures_recorded(uow, clock, AuditAction.UPDATE, "product", command.product_id), uow:
        product = _product(uow, command.product_id)
        _before_release(product)
        if command.started_at < product.collected_at:
            raise InvalidValue("started_at", "processing cannot start before the collection")
        refuse_future("ended_at", command.ended_at, clock.now(), "the end of a step")
        step = ProcessingStep(
            id=new_id(),
            product_id=product.id,
            kind=command.kind,
            started_at=command.started_at,
            ended_at=command.ended_at,
            performed_by=staff.display_name,
            device=command.device.strip(),
            notes=(command.notes or "").strip() or None,
        )
        uow.lab.add_step(step)
        _audit_update(uow, clock, product, f"processing: {step.kind} on {step.device}")
        uow.commit()
    return step


def finish_processing(uow: UnitOfWork, clock: Clock, product_id: UUID) -> Product:
    """Processing done: the product waits for QC and release; its episode moves to processed."""
    with failures_recorded(uow, clock, AuditAction.UPDATE, "product", product_id), uow:
        product = _product(uow, product_id)
        if not uow.lab.steps(product.id):
            raise TransitionRefused(
                [GuardFailure(Guard.PROCESSING_NOT_FINISHED, "Record at least one step first.")]
            )
        product.finish_processing(clock.now())
        episode_id = uow.products.episode_of(product.id)
        episode = uow.episodes.get(episode_id) if episode_id is not None else None
        if episode is not None and episode.stage is Stage.HARVESTED:
            move_loaded(uow, clock, episode, TransitionRequest(to=Stage.PROCESSED, product=product))
        else:
            uow.products.save(product)
        _audit_update(uow, clock, product, "processing finished; awaiting QC and release")
        uow.commit()
    return product


@dataclass(frozen=True)
class RecordQcResult:
    product_id: UUID
    test: QcTest
    measured_at: datetime
    value: float | None = None
    outcome: QcOutcome | None = None
    method: str | None = None


@dataclass(frozen=True)
class QcRecorded:
    result: QcResult
    recall_task: Task | None = None


def record_qc_result(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, staff: StaffMember, command: RecordQcResult
) -> QcRecorded:
    """A QC result, checked against its physical range.

    QC-3: a culture can come back after the injection. A positive stain or culture on a
    released product withdraws it; on an administered product it opens a recall task for the
    patient. Either way it is recorded as a deviation.
    """
    with failures_recorded(uow, clock, AuditAction.UPDATE, "product", command.product_id), uow:
        product = _product(uow, command.product_id)
        now = clock.now()
        if command.measured_at < product.collected_at:
            raise InvalidValue("measured_at", "measured before the product was collected")
        refuse_future("measured_at", command.measured_at, now, "a result")
        result = QcResult(
            id=new_id(),
            product_id=product.id,
            test=command.test,
            measured_at=command.measured_at,
            recorded_by=staff.display_name,
            value=command.value,
            outcome=command.outcome,
            method=(command.method or "").strip() or None,
        )
        uow.lab.add_qc(result)
        task = None
        if result.is_positive_microbiology and product.status in (
            ProductStatus.RELEASED,
            ProductStatus.ADMINISTERED,
        ):
            task = _positive_after_release(uow, clock, new_id, staff, product, result)
        _audit_update(uow, clock, product, f"QC {result.test}: {result.display}")
        uow.commit()
    return QcRecorded(result, task)


def _positive_after_release(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    staff: StaffMember,
    product: Product,
    result: QcResult,
) -> Task | None:
    now = clock.now()
    what = f"{result.test.measure.label} positive on {product.din}"
    deviation = Deviation(
        id=new_id(),
        clinic_id=product.clinic_id,
        kind=DeviationKind.POSITIVE_CULTURE_AFTER_RELEASE,
        description=f"{what} after release.",
        discovered_at=now,
        recorded_by=staff.display_name,
        product_id=product.id,
        patient_id=product.intended_patient_id,
        distributed=True,
    )
    uow.tasks.add_deviation(deviation)
    open_deviation_report(uow, clock, new_id, deviation)
    if product.status is ProductStatus.RELEASED:
        product.recall(now, what)
        uow.products.save(product)
        return None
    task = Task(
        id=new_id(),
        clinic_id=product.clinic_id,
        kind=TaskKind.PATIENT_RECALL,
        title=f"Recall the patient: {what}",
        reason=f"{what}, reported after the injection (QC-3). Contact, examine, treat.",
        opened_at=now,
        patient_id=product.intended_patient_id,
        product_id=product.id,
    )
    uow.tasks.add(task)
    record(uow, clock, AuditAction.CREATE, "task", task.id, product.clinic_id, detail=task.title)
    return task


def decide_release(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    lab: LabSettings,
    signer: Signer,
    product_id: UUID,
    release: bool,
    reason: str | None = None,
) -> Product:
    """Release or reject under the lab technician's electronic signature (DON-7, QC-1).

    Release needs the QC results to meet the product type's specification, a complete and
    favourable donor-eligibility determination and an unexpired product; the refusal names
    every reason. The release of a cycle's own product moves its episode to released.
    """
    with failures_recorded(uow, clock, AuditAction.SIGN, "product", product_id):
        with uow:
            _product(uow, product_id)  # another clinic's product is "not found" before a password
        signer.reauthenticate(uow, clock)
        with uow:
            product = _product(uow, product_id)
            now = clock.now()
            findings = evaluate_qc(
                lab.specifications[product.product_type], uow.lab.qc_results(product.id)
            )
            if release:
                product.release(now, qc_failures(findings))
            else:
                product.reject(reason or "")
            content = {
                "product_id": str(product.id),
                "din": product.din,
                "decision": "released" if release else "rejected",
                "reason": reason,
                "qc": [(f.test.value, f.status.value, f.limit) for f in findings],
            }
            add_signature(
                uow, clock, new_id, signer, "product", product.id, product.clinic_id, content
            )
            episode_id = uow.products.episode_of(product.id)
            episode = uow.episodes.get(episode_id) if episode_id is not None else None
            if release and episode is not None and episode.stage is Stage.PROCESSED:
                request = TransitionRequest(to=Stage.RELEASED, product=product, signed=True)
                move_loaded(uow, clock, episode, request)
            else:
                uow.products.save(product)
            uow.commit()
    return product


@dataclass(frozen=True)
class RecordCustody:
    product_id: UUID
    kind: CustodyKind
    from_party: str | None
    to_party: str
    location: str
    occurred_at: datetime
    temperature_c: float | None = None


def record_custody(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, staff: StaffMember, command: RecordCustody
) -> CustodyEvent:
    """A handover or a move of the product (COI-1); never dated before its collection."""
    with failures_recorded(uow, clock, AuditAction.UPDATE, "product", command.product_id), uow:
        product = _product(uow, command.product_id)
        event = custody_event(
            id=new_id(),
            product_id=product.id,
            collected_at=product.collected_at,
            kind=command.kind,
            from_party=command.from_party,
            to_party=command.to_party,
            location=command.location,
            occurred_at=command.occurred_at,
            recorded_by=staff.display_name,
            now=clock.now(),
            temperature_c=command.temperature_c,
        )
        uow.lab.add_custody(event)
        _audit_update(
            uow, clock, product, f"custody: {event.kind} to {event.to_party} at {event.location}"
        )
        uow.commit()
    return event
