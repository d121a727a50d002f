"""Adverse events and the regulatory reports they and deviations make due."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from regenpath.adapters.db.lab_tables import DonorRow, InjectionRecordRow
from regenpath.adapters.db.repositories import _Scoped
from regenpath.adapters.db.tables import Base, ClinicRow, ProductRow
from regenpath.adapters.db.types import str_enum
from regenpath.domain.safety import (
    AdverseEvent,
    AeCatalogue,
    AeOutcome,
    AeSource,
    ConcernLevel,
    PatientReport,
    RegulatoryReport,
    Relatedness,
    ReportForm,
    ReportStatus,
    Seriousness,
    TriageOutcome,
)
from regenpath.domain.signals import Administration


class AdverseEventRow(Base):
    __tablename__ = "adverse_events"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    episode_id: Mapped[UUID] = mapped_column(ForeignKey("episodes.id"), index=True)
    term_code: Mapped[str] = mapped_column(String(40))
    onset_on: Mapped[date]
    grade: Mapped[int] = mapped_column(Integer)
    seriousness: Mapped[list[str]] = mapped_column(JSON)
    outcome: Mapped[AeOutcome] = mapped_column(str_enum(AeOutcome))
    discovered_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    related_harvest: Mapped[Relatedness | None] = mapped_column(str_enum(Relatedness))
    related_product: Mapped[Relatedness | None] = mapped_column(str_enum(Relatedness))
    related_injection: Mapped[Relatedness | None] = mapped_column(str_enum(Relatedness))
    unexpected: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_on: Mapped[date | None]
    product_ids: Mapped[list[str]] = mapped_column(JSON)
    source: Mapped[AeSource] = mapped_column(str_enum(AeSource))


class RegulatoryReportRow(Base):
    __tablename__ = "regulatory_reports"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(20))
    form: Mapped[ReportForm] = mapped_column(str_enum(ReportForm))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[UUID]
    discovered_on: Mapped[date]
    due_on: Mapped[date]
    reasons: Mapped[list[str]] = mapped_column(JSON)
    opened_at: Mapped[datetime]
    episode_id: Mapped[UUID | None] = mapped_column(ForeignKey("episodes.id"))
    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus))
    submitted_on: Mapped[date | None]
    reference: Mapped[str | None] = mapped_column(String(200))


class PatientReportRow(Base):
    """A problem a patient reported in the portal, and how staff triaged it."""

    __tablename__ = "patient_reports"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    episode_id: Mapped[UUID] = mapped_column(ForeignKey("episodes.id"))
    reported_at: Mapped[datetime]
    description: Mapped[str] = mapped_column(Text)
    concern: Mapped[ConcernLevel] = mapped_column(str_enum(ConcernLevel))
    started_on: Mapped[date | None]
    triage: Mapped[TriageOutcome] = mapped_column(str_enum(TriageOutcome), index=True)
    triaged_at: Mapped[datetime | None]
    triaged_by: Mapped[str | None] = mapped_column(String(200))
    triage_note: Mapped[str] = mapped_column(Text)
    adverse_event_id: Mapped[UUID | None] = mapped_column(ForeignKey("adverse_events.id"))


PATIENT_REPORT_FIELDS = tuple(PatientReport.__dataclass_fields__)


def _patient_report(row: PatientReportRow) -> PatientReport:
    return PatientReport(**{name: getattr(row, name) for name in PATIENT_REPORT_FIELDS})


def _event(row: AdverseEventRow, catalogue: AeCatalogue) -> AdverseEvent:
    return AdverseEvent(
        id=row.id,
        clinic_id=row.clinic_id,
        episode_id=row.episode_id,
        term=catalogue.term(row.term_code),
        onset_on=row.onset_on,
        grade=row.grade,
        seriousness=frozenset(Seriousness(s) for s in row.seriousness),
        outcome=row.outcome,
        discovered_at=row.discovered_at,
        recorded_by=row.recorded_by,
        description=row.description,
        related_harvest=row.related_harvest,
        related_product=row.related_product,
        related_injection=row.related_injection,
        unexpected=row.unexpected,
        resolved_on=row.resolved_on,
        product_ids=tuple(UUID(p) for p in row.product_ids),
        source=row.source,
    )


def _report(row: RegulatoryReportRow) -> RegulatoryReport:
    names = RegulatoryReport.__dataclass_fields__
    values: dict[str, Any] = {name: getattr(row, name) for name in names}
    return RegulatoryReport(**values | {"reasons": tuple(row.reasons)})


class SqlSafetyRepository(_Scoped):
    def add_event(self, event: AdverseEvent) -> None:
        self.session.add(
            AdverseEventRow(
                id=event.id,
                clinic_id=event.clinic_id,
                episode_id=event.episode_id,
                term_code=event.term.code,
                onset_on=event.onset_on,
                grade=event.grade,
                seriousness=sorted(event.seriousness),
                outcome=event.outcome,
                discovered_at=event.discovered_at,
                recorded_by=event.recorded_by,
                description=event.description,
                related_harvest=event.related_harvest,
                related_product=event.related_product,
                related_injection=event.related_injection,
                unexpected=event.unexpected,
                resolved_on=event.resolved_on,
                product_ids=[str(p) for p in event.product_ids],
                source=event.source,
            )
        )
        self.session.flush()

    def events(self, catalogue: AeCatalogue, episode_id: UUID | None = None) -> list[AdverseEvent]:
        statement = select(AdverseEventRow)
        if episode_id is not None:
            statement = statement.where(AdverseEventRow.episode_id == episode_id)
        rows = self.session.scalars(
            self._in_scope(statement, AdverseEventRow.clinic_id).order_by(
                AdverseEventRow.discovered_at.desc(), AdverseEventRow.id
            )
        )
        return [_event(row, catalogue) for row in rows]

    def get_event(self, catalogue: AeCatalogue, event_id: UUID) -> AdverseEvent | None:
        row = self.session.scalar(
            self._in_scope(
                select(AdverseEventRow).where(AdverseEventRow.id == event_id),
                AdverseEventRow.clinic_id,
            )
        )
        return _event(row, catalogue) if row is not None else None

    def add_report(self, report: RegulatoryReport) -> None:
        values = {name: getattr(report, name) for name in RegulatoryReport.__dataclass_fields__}
        self.session.add(RegulatoryReportRow(**values | {"reasons": list(report.reasons)}))
        self.session.flush()

    def save_report(self, report: RegulatoryReport) -> None:
        row = self.session.get(RegulatoryReportRow, report.id)
        assert row is not None, "a report is saved after it was added"
        row.status, row.submitted_on, row.reference = (
            report.status,
            report.submitted_on,
            report.reference,
        )
        self.session.flush()

    def reports(self, status: ReportStatus | None = None) -> list[RegulatoryReport]:
        statement = select(RegulatoryReportRow)
        if status is not None:
            statement = statement.where(RegulatoryReportRow.status == status)
        rows = self.session.scalars(
            self._in_scope(statement, RegulatoryReportRow.clinic_id).order_by(
                RegulatoryReportRow.due_on, RegulatoryReportRow.id
            )
        )
        return [_report(row) for row in rows]

    def add_patient_report(self, report: PatientReport) -> None:
        self.session.add(PatientReportRow(**{n: getattr(report, n) for n in PATIENT_REPORT_FIELDS}))
        self.session.flush()

    def save_patient_report(self, report: PatientReport) -> None:
        row = self.session.get(PatientReportRow, report.id)
        assert row is not None, "a report is saved after it was added"
        for name in ("triage", "triaged_at", "triaged_by", "triage_note", "adverse_event_id"):
            setattr(row, name, getattr(report, name))
        self.session.flush()

    def patient_reports(
        self, triage: TriageOutcome | None = None, episode_id: UUID | None = None
    ) -> list[PatientReport]:
        statement = select(PatientReportRow)
        if triage is not None:
            statement = statement.where(PatientReportRow.triage == triage)
        if episode_id is not None:
            statement = statement.where(PatientReportRow.episode_id == episode_id)
        rows = self.session.scalars(
            self._in_scope(statement, PatientReportRow.clinic_id).order_by(
                PatientReportRow.reported_at, PatientReportRow.id
            )
        )
        return [_patient_report(row) for row in rows]

    def get_patient_report(self, report_id: UUID) -> PatientReport | None:
        row = self.session.scalar(
            self._in_scope(
                select(PatientReportRow).where(PatientReportRow.id == report_id),
                PatientReportRow.clinic_id,
            )
        )
        return _patient_report(row) if row is not None else None

    def administrations(self) -> list[Administration]:
        return administrations(self.session, self._in_scope)

    def get_report(self, report_id: UUID) -> RegulatoryReport | None:
        row = self.session.scalar(
            self._in_scope(
                select(RegulatoryReportRow).where(RegulatoryReportRow.id == report_id),
                RegulatoryReportRow.clinic_id,
            )
        )
        return _report(row) if row is not None else None


def administrations(session: Any, in_scope: Any) -> list[Administration]:
    """Every product given, with its lot, donor, clinic and the operator who injected it."""
    statement = (
        select(
            ProductRow.id,
            ProductRow.clinic_id,
            ProductRow.administered_at,
            InjectionRecordRow.operator,
            ClinicRow.name,
            ProductRow.lot_number,
            ProductRow.donor_id,
            DonorRow.code,
        )
        .join(InjectionRecordRow, InjectionRecordRow.product_id == ProductRow.id)
        .join(ClinicRow, ClinicRow.id == ProductRow.clinic_id)
        .outerjoin(DonorRow, DonorRow.id == ProductRow.donor_id)
        .where(ProductRow.administered_at.is_not(None))
    )
    rows = session.execute(in_scope(statement, ProductRow.clinic_id))
    return [
        Administration(
            product_id=row[0],
            clinic_id=row[1],
            administered_at=row[2],
            operator=row[3],
            clinic_name=row[4],
            lot_number=row[5],
            donor_id=row[6],
            donor_code=row[7],
        )
        for row in rows
    ]
