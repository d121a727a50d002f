"""SQL repositories of the product record: products, the lab's records, donors, tasks, lookback.

Domain dataclasses map onto rows field by field (same names), so a new field is one column
and one migration, not another hand-written mapping.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Select, func, literal, or_, select, update
from sqlalchemy.orm import DeclarativeBase

from regenpath.adapters.db.lab_tables import (
    CustodyEventRow,
    DeviationRow,
    DinCounterRow,
    DonorRow,
    DonorTestResultRow,
    HarvestRecordRow,
    InjectionRecordRow,
    ProcessingStepRow,
    QcResultRow,
    TaskRow,
)
from regenpath.adapters.db.repositories import _Scoped
from regenpath.adapters.db.tables import (
    BedsideVerificationRow,
    EpisodeRow,
    PatientRow,
    ProductRow,
    TreatmentCycleRow,
)
from regenpath.domain.custody import CustodyEvent
from regenpath.domain.donors import Donor, DonorTestResult
from regenpath.domain.procedures import (
    HarvestRecord,
    InjectionRecord,
    InjectionSite,
    Side,
    TimeOut,
    TimeOutItem,
)
from regenpath.domain.products import BedsideVerification, CellSource, Product, ProductStatus
from regenpath.domain.quality import ProcessingStep, QcResult
from regenpath.domain.tasks import Deviation, Task, TaskStatus
from regenpath.services.errors import StaleVersion
from regenpath.services.ports import ProductQuery, TraceRow

R = TypeVar("R")


def _values(record: Any) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def _record(cls: type[R], row: DeclarativeBase, **overrides: Any) -> R:
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    return cls(**{name: getattr(row, name) for name in names} | overrides)


class SqlProductRepository(_Scoped):
    def add(self, product: Product) -> None:
        self.session.add(ProductRow(**_values(product)))
        self.session.flush()

    def get(self, product_id: UUID) -> Product | None:
        return self._one(select(ProductRow).where(ProductRow.id == product_id))

    def by_din(self, din: str) -> Product | None:
        return self._one(select(ProductRow).where(ProductRow.din == din))

    def _one(self, statement: Select[ProductRow]) -> Product | None:
        row = self.session.scalar(self._in_scope(statement, ProductRow.clinic_id))
        return _record(Product, row) if row is not None else None

    def save(self, product: Product) -> None:
        values = _values(product)
        values["version"] = product.version + 1
        result = self.session.execute(
            update(ProductRow)
            .where(ProductRow.id == product.id, ProductRow.version == product.version)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleVersion("product", product.id, product.version)
        product.version += 1

    def find(self, query: ProductQuery) -> list[Product]:
        statement = select(ProductRow)
        if query.clinic_id is not None:
            statement = statement.where(ProductRow.clinic_id == query.clinic_id)
        if query.statuses is not None:
            statement = statement.where(ProductRow.status.in_(query.statuses))
        if query.donor_id is not None:
            statement = statement.where(ProductRow.donor_id == query.donor_id)
        rows = self.session.scalars(
            self._in_scope(statement, ProductRow.clinic_id)
            .order_by(ProductRow.expires_at, ProductRow.din)
            .limit(query.limit)
        )
        return [_record(Product, row) for row in rows]

    def for_donor(self, donor_id: UUID) -> list[Product]:
        return self.find(ProductQuery(donor_id=donor_id, limit=100_000))

    def available_donor_products(self, clinic_id: UUID, now: datetime) -> list[Product]:
        rows = self.session.scalars(
            self._in_scope(
                select(ProductRow).where(
                    ProductRow.clinic_id == clinic_id,
                    ProductRow.source == CellSource.ALLOGENEIC,
                    ProductRow.status == ProductStatus.RELEASED,
                    ProductRow.intended_patient_id.is_(None),
                    ProductRow.recalled_at.is_(None),
                    ProductRow.expires_at > now,
                ),
                ProductRow.clinic_id,
            ).order_by(ProductRow.expires_at)
        )
        return [_record(Product, row) for row in rows]

    def next_din_sequence(self, facility: str, year: int) -> int:
        # UPDATE first: on PostgreSQL the row lock serialises concurrent harvests, so two
        # products never share a sequence; the unique DIN column backs this up.
        taken = self.session.execute(
            update(DinCounterRow)
            .where(DinCounterRow.facility == facility, DinCounterRow.year == year)
            .values(last_sequence=DinCounterRow.last_sequence + 1)
            .returning(DinCounterRow.last_sequence)
        ).scalar()
        if taken is None:
            self.session.add(DinCounterRow(facility=facility, year=year, last_sequence=1))
            self.session.flush()
            return 1
        return int(taken)

    def episode_of(self, product_id: UUID) -> UUID | None:
        return self.session.scalar(
            self._in_scope(
                select(TreatmentCycleRow.episode_id).where(
                    TreatmentCycleRow.product_id == product_id
                ),
                TreatmentCycleRow.clinic_id,
            ).limit(1)
        )

    def add_verification(self, verification: BedsideVerification) -> None:
        product = self.session.get(ProductRow, verification.product_id)
        assert product is not None, "verifications are recorded for known products"
        values = _values(verification) | {"mismatches": list(verification.mismatches)}
        self.session.add(BedsideVerificationRow(clinic_id=product.clinic_id, **values))
        self.session.flush()

    def verifications(self, product_id: UUID) -> list[BedsideVerification]:
        rows = self.session.scalars(
            self._in_scope(
                select(BedsideVerificationRow).where(
                    BedsideVerificationRow.product_id == product_id
                ),
                BedsideVerificationRow.clinic_id,
            ).order_by(BedsideVerificationRow.verified_at.desc(), BedsideVerificationRow.id)
        )
        return [
            _record(BedsideVerification, row, mismatches=tuple(row.mismatches or ()))
            for row in rows
        ]

    def latest_verification(self, product_id: UUID) -> BedsideVerification | None:
        found = self.verifications(product_id)
        return found[0] if found else None


def _clinic_of_product(session: Any, product_id: UUID) -> UUID:
    clinic_id: UUID | None = session.scalar(
        select(ProductRow.clinic_id).where(ProductRow.id == product_id)
    )
    assert clinic_id is not None, "records are made for known products"
    return clinic_id


class SqlLabRecordRepository(_Scoped):
    def _add(self, row_type: type[DeclarativeBase], record: Any, **extra: Any) -> None:
        clinic_id = _clinic_of_product(self.session, record.product_id)
        self.session.add(row_type(clinic_id=clinic_id, **(_values(record) | extra)))
        self.session.flush()

    def _for_product(self, row_type: Any, product_id: UUID, order: Any) -> Sequence[Any]:
        return self.session.scalars(
            self._in_scope(
                select(row_type).where(row_type.product_id == product_id), row_type.clinic_id
            ).order_by(order, row_type.id)
        ).all()

    def add_harvest(self, harvest: HarvestRecord) -> None:
        self._add(HarvestRecordRow, harvest)

    def harvest_of(self, product_id: UUID) -> HarvestRecord | None:
        rows = self._for_product(HarvestRecordRow, product_id, HarvestRecordRow.started_at)
        return _record(HarvestRecord, rows[0]) if rows else None

    def add_step(self, step: ProcessingStep) -> None:
        self._add(ProcessingStepRow, step)

    def steps(self, product_id: UUID) -> list[ProcessingStep]:
        rows = self._for_product(ProcessingStepRow, product_id, ProcessingStepRow.started_at)
        return [_record(ProcessingStep, row) for row in rows]

    def step_counts(self, product_ids: Sequence[UUID]) -> dict[UUID, int]:
        if not product_ids:
            return {}
        rows = self.session.execute(
            self._in_scope(
                select(ProcessingStepRow.product_id, func.count()).where(
                    ProcessingStepRow.product_id.in_(product_ids)
                ),
                ProcessingStepRow.clinic_id,
            ).group_by(ProcessingStepRow.product_id)
        )
        return {product_id: int(count) for product_id, count in rows}

    def add_qc(self, result: QcResult) -> None:
        self._add(QcResultRow, result)

    def qc_results(self, product_id: UUID) -> list[QcResult]:
        rows = self._for_product(QcResultRow, product_id, QcResultRow.measured_at)
        return [_record(QcResult, row) for row in rows]

    def add_custody(self, event: CustodyEvent) -> None:
        self._add(CustodyEventRow, event)

    def custody(self, product_id: UUID) -> list[CustodyEvent]:
        rows = self._for_product(CustodyEventRow, product_id, CustodyEventRow.occurred_at)
        return [_record(CustodyEvent, row) for row in rows]

    def add_injection(self, injection: InjectionRecord) -> None:
        sites = [dataclasses.asdict(site) for site in injection.sites]
        time_out = injection.time_out
        self._add(
            InjectionRecordRow,
            injection,
            sites=sites,
            image_references=list(injection.image_references),
            time_out=None
            if time_out is None
            else {
                "confirmed_by": time_out.confirmed_by,
                "confirmed_at": time_out.confirmed_at.isoformat(),
                "confirmed": sorted(time_out.confirmed),
            },
        )

    def injection_of(self, product_id: UUID) -> InjectionRecord | None:
        rows = self._for_product(InjectionRecordRow, product_id, InjectionRecordRow.started_at)
        if not rows:
            return None
        return _injection(rows[0])


def _injection(row: InjectionRecordRow) -> InjectionRecord:
    sites = tuple(
        InjectionSite(**(site | {"laterality": Side(site["laterality"])})) for site in row.sites
    )
    held = row.time_out
    time_out = (
        None
        if held is None
        else TimeOut(
            confirmed_by=held["confirmed_by"],
            confirmed_at=datetime.fromisoformat(held["confirmed_at"]),
            confirmed=frozenset(TimeOutItem(item) for item in held["confirmed"]),
        )
    )
    return _record(
        InjectionRecord,
        row,
        sites=sites,
        image_references=tuple(row.image_references),
        time_out=time_out,
    )


class SqlDonorRepository(_Scoped):
    def add(self, donor: Donor) -> None:
        self.session.add(DonorRow(**_values(donor)))
        self.session.flush()

    def get(self, donor_id: UUID) -> Donor | None:
        row = self.session.scalar(
            self._in_scope(select(DonorRow).where(DonorRow.id == donor_id), DonorRow.clinic_id)
        )
        return _record(Donor, row) if row is not None else None

    def save(self, donor: Donor) -> None:
        values = _values(donor) | {"version": donor.version + 1}
        result = self.session.execute(
            update(DonorRow)
            .where(DonorRow.id == donor.id, DonorRow.version == donor.version)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleVersion("donor", donor.id, donor.version)
        donor.version += 1

    def all(self, clinic_id: UUID | None = None) -> list[Donor]:
        statement = select(DonorRow)
        if clinic_id is not None:
            statement = statement.where(DonorRow.clinic_id == clinic_id)
        rows = self.session.scalars(
            self._in_scope(statement, DonorRow.clinic_id).order_by(DonorRow.created_at.desc())
        )
        return [_record(Donor, row) for row in rows]

    def add_result(self, result: DonorTestResult) -> None:
        donor = self.session.get(DonorRow, result.donor_id)
        assert donor is not None, "results are recorded for known donors"
        self.session.add(DonorTestResultRow(clinic_id=donor.clinic_id, **_values(result)))
        self.session.flush()

    def results(self, donor_id: UUID) -> list[DonorTestResult]:
        rows = self.session.scalars(
            self._in_scope(
                select(DonorTestResultRow).where(DonorTestResultRow.donor_id == donor_id),
                DonorTestResultRow.clinic_id,
            ).order_by(DonorTestResultRow.specimen_collected_at, DonorTestResultRow.id)
        )
        return [_record(DonorTestResult, row) for row in rows]


class SqlTaskRepository(_Scoped):
    def add(self, task: Task) -> None:
        self.session.add(TaskRow(**_values(task)))
        self.session.flush()

    def find(self, status: TaskStatus | None = None, patient_id: UUID | None = None) -> list[Task]:
        statement = select(TaskRow)
        if status is not None:
            statement = statement.where(TaskRow.status == status)
        if patient_id is not None:
            statement = statement.where(TaskRow.patient_id == patient_id)
        rows = self.session.scalars(
            self._in_scope(statement, TaskRow.clinic_id).order_by(TaskRow.opened_at.desc())
        )
        return [_record(Task, row) for row in rows]

    def close_for_visit(self, visit_id: UUID, now: datetime) -> int:
        """Close the reminder tasks still open for a time point; how many were open."""
        return self._close_open(TaskRow.visit_id == visit_id, now)

    def close_for_patient_report(self, report_id: UUID, now: datetime) -> int:
        """Close the triage task of a patient's report once it is triaged."""
        return self._close_open(TaskRow.patient_report_id == report_id, now)

    def _close_open(self, about: Any, now: datetime) -> int:
        rows = self.session.scalars(
            self._in_scope(
                select(TaskRow).where(about, TaskRow.status == TaskStatus.OPEN),
                TaskRow.clinic_id,
            )
        ).all()
        for row in rows:
            row.status, row.closed_at = TaskStatus.DONE, now
        self.session.flush()
        return len(rows)

    def add_deviation(self, deviation: Deviation) -> None:
        self.session.add(DeviationRow(**_values(deviation)))
        self.session.flush()

    def deviations(self, product_id: UUID | None = None) -> list[Deviation]:
        statement = select(DeviationRow)
        if product_id is not None:
            statement = statement.where(DeviationRow.product_id == product_id)
        rows = self.session.scalars(
            self._in_scope(statement, DeviationRow.clinic_id).order_by(
                DeviationRow.discovered_at.desc()
            )
        )
        return [_record(Deviation, row) for row in rows]


class SqlLookback(_Scoped):
    """Each trace is one query joining product, donor, recipient and treatment cycle."""

    def _trace(self, condition: Any) -> list[TraceRow]:
        statement = (
            select(
                ProductRow.id,
                ProductRow.din,
                ProductRow.product_type,
                ProductRow.status,
                ProductRow.clinic_id,
                ProductRow.donor_id,
                DonorRow.code,
                ProductRow.lot_number,
                PatientRow.id,
                (PatientRow.family_name + literal(", ") + PatientRow.given_name),
                PatientRow.mrn,
                TreatmentCycleRow.episode_id,
                ProductRow.administered_at,
                ProductRow.recalled_at,
            )
            .outerjoin(DonorRow, DonorRow.id == ProductRow.donor_id)
            .outerjoin(PatientRow, PatientRow.id == ProductRow.intended_patient_id)
            .outerjoin(TreatmentCycleRow, TreatmentCycleRow.product_id == ProductRow.id)
            .where(condition)
        )
        rows = self.session.execute(
            self._in_scope(statement, ProductRow.clinic_id).order_by(ProductRow.din)
        )
        return [TraceRow(*row) for row in rows.all()]  # type: ignore[call-arg]

    def from_donor(self, donor_id: UUID) -> list[TraceRow]:
        return self._trace(ProductRow.donor_id == donor_id)

    def from_lot(self, lot_number: str) -> list[TraceRow]:
        return self._trace(ProductRow.lot_number == lot_number)

    def from_products(self, product_ids: Sequence[UUID]) -> list[TraceRow]:
        return self._trace(ProductRow.id.in_(product_ids))

    def from_patient(self, patient_id: UUID) -> list[TraceRow]:
        episode_products = select(TreatmentCycleRow.product_id).where(
            TreatmentCycleRow.episode_id.in_(
                select(EpisodeRow.id).where(EpisodeRow.patient_id == patient_id)
            )
        )
        return self._trace(
            or_(
                ProductRow.intended_patient_id == patient_id,
                ProductRow.id.in_(episode_products),
            )
        )
