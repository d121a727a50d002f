"""Lookback and recall (TRK-1, 21 CFR 1271.290): from a donor or a product lot to every
recipient, from a patient to every product and donor; a recall reaches each recipient."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from regenpath.domain.audit import AuditAction
from regenpath.domain.errors import InvalidValue
from regenpath.domain.tasks import Task, TaskKind, TaskStatus
from regenpath.services.audit import failures_recorded, record
from regenpath.services.errors import NotFound
from regenpath.services.ports import Clock, IdFactory, TraceRow, UnitOfWork


@dataclass(frozen=True)
class Trace:
    """What a lookback found, and from where it started."""

    origin: str  # "donor DNR-...", "product A9999...", "patient RS-..."
    rows: list[TraceRow]

    @property
    def recipients(self) -> list[UUID]:
        return sorted({row.patient_id for row in self.rows if row.patient_id is not None})

    @property
    def donors(self) -> list[str]:
        return sorted({row.donor_code for row in self.rows if row.donor_code is not None})


def _trace_product(uow: UnitOfWork, product_id: UUID) -> Trace:
    product = uow.products.get(product_id)
    if product is None:
        raise NotFound("product", product_id)
    # A donor product traces the whole donation (every product of the donor); a lot number
    # widens it to the lot; an autologous product traces itself and its patient.
    if product.donor_id is not None:
        rows = uow.lookback.from_donor(product.donor_id)
    elif product.lot_number is not None:
        rows = uow.lookback.from_lot(product.lot_number)
    else:
        rows = uow.lookback.from_products([product.id])
    return Trace(f"product {product.din}", rows)


def _trace_donor(uow: UnitOfWork, donor_id: UUID) -> Trace:
    donor = uow.donors.get(donor_id)
    if donor is None:
        raise NotFound("donor", donor_id)
    return Trace(f"donor {donor.code}", uow.lookback.from_donor(donor.id))


def trace_product(uow: UnitOfWork, clock: Clock, product_id: UUID) -> Trace:
    with failures_recorded(uow, clock, AuditAction.READ, "lookback", product_id), uow:
        trace = _trace_product(uow, product_id)
        _audit_trace(uow, clock, "product", product_id, trace)
        uow.commit()
    return trace


def trace_donor(uow: UnitOfWork, clock: Clock, donor_id: UUID) -> Trace:
    with failures_recorded(uow, clock, AuditAction.READ, "lookback", donor_id), uow:
        trace = _trace_donor(uow, donor_id)
        _audit_trace(uow, clock, "donor", donor_id, trace)
        uow.commit()
    return trace


def trace_patient(uow: UnitOfWork, clock: Clock, patient_id: UUID) -> Trace:
    with failures_recorded(uow, clock, AuditAction.READ, "lookback", patient_id), uow:
        patient = uow.patients.get(patient_id)
        if patient is None:
            raise NotFound("patient", patient_id)
        trace = Trace(f"patient {patient.mrn}", uow.lookback.from_patient(patient.id))
        _audit_trace(uow, clock, "patient", patient_id, trace)
        uow.commit()
    return trace


def _audit_trace(uow: UnitOfWork, clock: Clock, kind: str, origin: UUID, trace: Trace) -> None:
    # A trace reads every recipient it lists: one entry per clinic it reached.
    clinics: list[UUID | None] = [*sorted({row.clinic_id for row in trace.rows}, key=str)]
    for clinic_id in clinics or [None]:
        record(
            uow,
            clock,
            AuditAction.READ,
            "lookback",
            origin,
            clinic_id,
            detail=f"from {kind}: {len(trace.rows)} products, {len(trace.recipients)} recipients",
        )


@dataclass(frozen=True)
class RecallResult:
    trace: Trace
    withdrawn: int  # products taken off the shelf
    tasks: list[Task]


def recall(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    *,
    reason: str,
    product_id: UUID | None = None,
    donor_id: UUID | None = None,
) -> RecallResult:
    """Recall a donation or lot: mark every product and open one task per recipient (TRK-1).

    Products still on the shelf are withdrawn (status recalled); administered ones keep their
    status and carry the recall date; each patient who received or awaits one gets a task.
    """
    if not reason.strip():
        raise InvalidValue("reason", "say why the products are recalled")
    origin = product_id or donor_id
    with failures_recorded(uow, clock, AuditAction.UPDATE, "recall", origin), uow:
        if product_id is not None:
            trace = _trace_product(uow, product_id)
        elif donor_id is not None:
            trace = _trace_donor(uow, donor_id)
        else:
            raise InvalidValue("product_id", "recall a product or a donor")
        now = clock.now()
        withdrawn = 0
        # One task per recipient; a recall repeated for the same product opens none again.
        open_for = {(t.patient_id, t.product_id) for t in uow.tasks.find(TaskStatus.OPEN)}
        reached: set[UUID] = set()
        tasks: list[Task] = []
        for row in trace.rows:
            product = uow.products.get(row.product_id)
            assert product is not None
            if product.recall(now, reason):
                withdrawn += 1
            uow.products.save(product)
            record(
                uow,
                clock,
                AuditAction.UPDATE,
                "product",
                product.id,
                product.clinic_id,
                reason=reason,
                detail="recalled",
            )
            patient_id = row.patient_id
            if (
                patient_id is not None
                and patient_id not in reached
                and (patient_id, row.product_id) not in open_for
            ):
                reached.add(patient_id)
                task = Task(
                    id=new_id(),
                    clinic_id=row.clinic_id,
                    kind=TaskKind.PATIENT_RECALL,
                    title=f"Recall {row.patient_name} ({row.patient_mrn}): product {row.din}",
                    reason=reason.strip(),
                    opened_at=now,
                    patient_id=row.patient_id,
                    product_id=row.product_id,
                )
                uow.tasks.add(task)
                tasks.append(task)
                record(uow, clock, AuditAction.CREATE, "task", task.id, row.clinic_id)
        uow.commit()
    return RecallResult(trace, withdrawn, tasks)


def open_tasks(uow: UnitOfWork) -> list[Task]:
    with uow:
        tasks = uow.tasks.find(TaskStatus.OPEN)
    return tasks
