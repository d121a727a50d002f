"""Tables of the product record: donors, harvests, processing, QC, custody, injections, and
the tasks and deviations they raise. Every one carries ``clinic_id`` (DESIGN.md s.4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from regenpath.adapters.db.tables import Base
from regenpath.adapters.db.types import str_enum
from regenpath.domain.custody import CustodyKind
from regenpath.domain.donors import DonorTest, DonorTissue, Screening, SpecimenSource, TestResult
from regenpath.domain.procedures import (
    AdiposeMethod,
    Anaesthesia,
    Approach,
    Guidance,
    HarvestSite,
    HarvestSource,
    Side,
)
from regenpath.domain.products import DonorEligibility
from regenpath.domain.quality import ProcessingKind, QcOutcome, QcTest
from regenpath.domain.tasks import DeviationKind, TaskKind, TaskStatus


class DonorRow(Base):
    __tablename__ = "donors"
    __table_args__ = (Index("uq_donors_clinic_id_code", "clinic_id", "code", unique=True),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    code: Mapped[str] = mapped_column(String(32))
    tissue: Mapped[DonorTissue] = mapped_column(str_enum(DonorTissue))
    living: Mapped[bool] = mapped_column(Boolean)
    recovered_at: Mapped[datetime]
    screening: Mapped[Screening] = mapped_column(str_enum(Screening))
    created_at: Mapped[datetime]
    eligibility: Mapped[DonorEligibility] = mapped_column(str_enum(DonorEligibility))
    determined_at: Mapped[datetime | None]
    determined_by: Mapped[str | None] = mapped_column(String(200))
    determination_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)


class DonorTestResultRow(Base):
    __tablename__ = "donor_test_results"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    donor_id: Mapped[UUID] = mapped_column(ForeignKey("donors.id"), index=True)
    test: Mapped[DonorTest] = mapped_column(str_enum(DonorTest))
    result: Mapped[TestResult] = mapped_column(str_enum(TestResult))
    specimen_collected_at: Mapped[datetime]
    specimen_source: Mapped[SpecimenSource] = mapped_column(str_enum(SpecimenSource))
    assay: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(200))


class HarvestRecordRow(Base):
    __tablename__ = "harvest_records"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    episode_id: Mapped[UUID] = mapped_column(ForeignKey("episodes.id"), index=True)
    cycle_number: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[UUID] = mapped_column(ForeignKey("products.id"), unique=True)
    source: Mapped[HarvestSource] = mapped_column(str_enum(HarvestSource))
    site: Mapped[HarvestSite] = mapped_column(str_enum(HarvestSite))
    side: Mapped[Side] = mapped_column(str_enum(Side))
    method: Mapped[AdiposeMethod | None] = mapped_column(str_enum(AdiposeMethod))
    anaesthesia: Mapped[Anaesthesia] = mapped_column(str_enum(Anaesthesia))
    volume_ml: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    operator: Mapped[str] = mapped_column(String(200))
    complications: Mapped[str | None] = mapped_column(Text)
    nsaids_stopped: Mapped[bool] = mapped_column(Boolean)
    anticoagulants_reviewed: Mapped[bool] = mapped_column(Boolean)


class InjectionRecordRow(Base):
    __tablename__ = "injection_records"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    episode_id: Mapped[UUID] = mapped_column(ForeignKey("episodes.id"), index=True)
    cycle_number: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[UUID] = mapped_column(ForeignKey("products.id"), unique=True)
    guidance: Mapped[Guidance] = mapped_column(str_enum(Guidance))
    approach: Mapped[Approach] = mapped_column(str_enum(Approach))
    sites: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    operator: Mapped[str] = mapped_column(String(200))
    image_references: Mapped[list[str]] = mapped_column(JSON)
    # SITE-1: {"confirmed_by", "confirmed_at", "confirmed": [items]}; NULL before migration 0011
    time_out: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ProcessingStepRow(Base):
    __tablename__ = "processing_steps"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    product_id: Mapped[UUID] = mapped_column(ForeignKey("products.id"), index=True)
    kind: Mapped[ProcessingKind] = mapped_column(str_enum(ProcessingKind))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    performed_by: Mapped[str] = mapped_column(String(200))
    device: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)


class QcResultRow(Base):
    __tablename__ = "qc_results"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    product_id: Mapped[UUID] = mapped_column(ForeignKey("products.id"), index=True)
    test: Mapped[QcTest] = mapped_column(str_enum(QcTest))
    value: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[QcOutcome | None] = mapped_column(str_enum(QcOutcome))
    measured_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(200))
    method: Mapped[str | None] = mapped_column(String(200))


class CustodyEventRow(Base):
    __tablename__ = "custody_events"
    __table_args__ = (Index("ix_custody_events_product_id", "product_id", "occurred_at"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    product_id: Mapped[UUID] = mapped_column(ForeignKey("products.id"))
    kind: Mapped[CustodyKind] = mapped_column(str_enum(CustodyKind))
    from_party: Mapped[str | None] = mapped_column(String(200))
    to_party: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime]
    temperature_c: Mapped[float | None] = mapped_column(Float)
    recorded_by: Mapped[str] = mapped_column(String(200))


class TaskRow(Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_clinic_id_status", "clinic_id", "status"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    kind: Mapped[TaskKind] = mapped_column(str_enum(TaskKind))
    title: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime]
    patient_id: Mapped[UUID | None] = mapped_column(ForeignKey("patients.id"))
    product_id: Mapped[UUID | None] = mapped_column(ForeignKey("products.id"))
    status: Mapped[TaskStatus] = mapped_column(str_enum(TaskStatus))
    closed_at: Mapped[datetime | None]
    visit_id: Mapped[UUID | None] = mapped_column(ForeignKey("follow_up_visits.id"))
    patient_report_id: Mapped[UUID | None] = mapped_column(ForeignKey("patient_reports.id"))


class DeviationRow(Base):
    __tablename__ = "deviations"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    kind: Mapped[DeviationKind] = mapped_column(str_enum(DeviationKind))
    description: Mapped[str] = mapped_column(Text)
    discovered_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(200))
    product_id: Mapped[UUID | None] = mapped_column(ForeignKey("products.id"))
    patient_id: Mapped[UUID | None] = mapped_column(ForeignKey("patients.id"))
    episode_id: Mapped[UUID | None] = mapped_column(ForeignKey("episodes.id"))
    distributed: Mapped[bool] = mapped_column(Boolean)


class DinCounterRow(Base):
    """The last DIN sequence handed out per facility and year (ISBT-1: unique for 100 years)."""

    __tablename__ = "din_counters"

    facility: Mapped[str] = mapped_column(String(5), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer)
