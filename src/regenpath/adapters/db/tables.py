"""The tables. Every clinical table carries ``clinic_id``, the tenant key (DESIGN.md s.4)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from regenpath.adapters.db.types import UTCDateTime, str_enum
from regenpath.domain.access import Role
from regenpath.domain.audit import AuditAction, AuditOutcome
from regenpath.domain.pathway import Stage
from regenpath.domain.patients import AdministrativeSex
from regenpath.domain.procedures import Laterality
from regenpath.domain.products import (
    CellSource,
    DonorEligibility,
    ProductStatus,
    ProductType,
    VerificationMethod,
)
from regenpath.domain.signatures import SignatureMeaning

# Deterministic constraint names, so migrations can name what they alter on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class ClinicRow(Base):
    __tablename__ = "clinics"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    phone: Mapped[str | None] = mapped_column(String(40))


class PatientRow(Base):
    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("clinic_id", "mrn", name="uq_patients_clinic_id_mrn"),
        # ID-1: unique as compared (case and spaces aside); migration 0012 filled it in.
        UniqueConstraint("clinic_id", "mrn_key", name="uq_patients_clinic_id_mrn_key"),
        Index("ix_patients_clinic_id_family_name", "clinic_id", "family_name"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    mrn: Mapped[str] = mapped_column(String(64))
    mrn_key: Mapped[str] = mapped_column(String(80))
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[AdministrativeSex] = mapped_column(str_enum(AdministrativeSex))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)


class EpisodeRow(Base):
    __tablename__ = "episodes"
    __table_args__ = (
        Index("ix_episodes_clinic_id_stage", "clinic_id", "stage", "stage_changed_at"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    condition_code: Mapped[str] = mapped_column(String(10))
    condition_text: Mapped[str] = mapped_column(String(200))
    target_site: Mapped[str] = mapped_column(String(100))
    laterality: Mapped[Laterality] = mapped_column(str_enum(Laterality))
    stage: Mapped[Stage] = mapped_column(str_enum(Stage))
    opened_at: Mapped[datetime]
    stage_changed_at: Mapped[datetime]
    consented_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    cycles: Mapped[list[TreatmentCycleRow]] = relationship(
        order_by="TreatmentCycleRow.number", lazy="selectin"
    )


class ProductRow(Base):
    __tablename__ = "products"
    __table_args__ = (Index("ix_products_intended_patient_id", "intended_patient_id"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    source: Mapped[CellSource] = mapped_column(str_enum(CellSource))
    status: Mapped[ProductStatus] = mapped_column(str_enum(ProductStatus))
    donor_eligibility: Mapped[DonorEligibility] = mapped_column(str_enum(DonorEligibility))
    intended_patient_id: Mapped[UUID | None] = mapped_column(ForeignKey("patients.id"))
    collected_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    released_at: Mapped[datetime | None]
    administered_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    # ISBT 128 DIN, 13 characters: unique, because lookback starts from it (TRK-1).
    din: Mapped[str] = mapped_column(String(13), unique=True)
    product_type: Mapped[ProductType] = mapped_column(str_enum(ProductType))
    volume_ml: Mapped[float | None] = mapped_column(Float)
    donor_id: Mapped[UUID | None] = mapped_column(ForeignKey("donors.id"), index=True)
    lot_number: Mapped[str | None] = mapped_column(String(40))
    processing_finished_at: Mapped[datetime | None]
    disposition_reason: Mapped[str | None] = mapped_column(Text)
    recalled_at: Mapped[datetime | None]


class TreatmentCycleRow(Base):
    __tablename__ = "treatment_cycles"
    __table_args__ = (UniqueConstraint("episode_id", "number", name="uq_cycles_episode_number"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    episode_id: Mapped[UUID] = mapped_column(ForeignKey("episodes.id"))
    number: Mapped[int] = mapped_column(Integer)
    cell_source: Mapped[CellSource] = mapped_column(str_enum(CellSource))
    stage: Mapped[Stage] = mapped_column(str_enum(Stage))
    planned_at: Mapped[datetime]
    product_id: Mapped[UUID | None] = mapped_column(ForeignKey("products.id"))
    administered_at: Mapped[datetime | None]


class BedsideVerificationRow(Base):
    __tablename__ = "bedside_verifications"
    __table_args__ = (Index("ix_bedside_verifications_product_id", "product_id", "verified_at"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    product_id: Mapped[UUID] = mapped_column(ForeignKey("products.id"))
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patients.id"))
    method: Mapped[VerificationMethod] = mapped_column(str_enum(VerificationMethod))
    passed: Mapped[bool] = mapped_column(Boolean)
    verified_at: Mapped[datetime]
    verified_by: Mapped[str] = mapped_column(String(200))
    second_verifier: Mapped[str | None] = mapped_column(String(200))
    scanned_din: Mapped[str | None] = mapped_column(String(20))
    mismatches: Mapped[list[str] | None] = mapped_column(JSON)


class EpisodeTransitionRow(Base):
    """Append-only history of stage changes: the chart's timeline."""

    __tablename__ = "episode_transitions"
    __table_args__ = (Index("ix_episode_transitions_episode_id", "episode_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    episode_id: Mapped[UUID] = mapped_column(ForeignKey("episodes.id"))
    from_stage: Mapped[Stage] = mapped_column(str_enum(Stage))
    to_stage: Mapped[Stage] = mapped_column(str_enum(Stage))
    occurred_at: Mapped[datetime]
    cycle_number: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class AuditEventRow(Base):
    """The audit trail: appended, never updated or deleted (PostgreSQL enforces it by trigger)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_resource", "resource_type", "resource_id"),
        Index("ix_audit_events_clinic_id_occurred_at", "clinic_id", "occurred_at"),
    )

    sequence: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    occurred_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[AuditAction] = mapped_column(str_enum(AuditAction))
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    # No foreign key: the trail must outlive, and never block, anything it mentions.
    clinic_id: Mapped[UUID | None]
    outcome: Mapped[AuditOutcome] = mapped_column(str_enum(AuditOutcome))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChainHeadRow(Base):
    """One row: the last sequence and hash. Appenders lock it, which serialises the chain, and
    ``audit verify`` compares it with the last entry, which reveals a deleted tail."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))


class UserRow(Base):
    """A staff account. The password is stored only as its Argon2 hash."""

    __tablename__ = "users"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    memberships: Mapped[list[ClinicMembershipRow]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )


class ClinicMembershipRow(Base):
    """A user's role in one clinic (one role per clinic, any number of clinics)."""

    __tablename__ = "clinic_memberships"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"), primary_key=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))


class StaffSessionRow(Base):
    """A web sign-in; the cookie itself is never stored, only its keyed digest."""

    __tablename__ = "staff_sessions"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class ApiTokenRow(Base):
    """A bearer token; only its keyed digest is stored, so the database cannot replay it."""

    __tablename__ = "api_tokens"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class LoginAttemptRow(Base):
    """Every password check, right or wrong: what throttling counts (OWASP lockout)."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "attempted_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    username: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime]
    succeeded: Mapped[bool] = mapped_column(Boolean)


class SignatureRow(Base):
    """An electronic signature: who (printed name), when, meaning, and the hash it binds to."""

    __tablename__ = "signatures"
    __table_args__ = (Index("ix_signatures_resource", "resource_type", "resource_id"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[UUID]
    signer_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"))
    printed_name: Mapped[str] = mapped_column(String(200))
    meaning: Mapped[SignatureMeaning] = mapped_column(str_enum(SignatureMeaning))
    signed_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))
    statement: Mapped[str | None] = mapped_column(Text)
