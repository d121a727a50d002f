"""Follow-up visits, questionnaire responses, recovery acknowledgements, portal sign-ins and
the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from regenpath.adapters.db.repositories import _Scoped
from regenpath.adapters.db.tables import Base
from regenpath.adapters.db.types import str_enum
from regenpath.domain.access import PatientSession, PortalLink
from regenpath.domain.followup import FollowUpVisit, QuestionnaireResponse
from regenpath.domain.messages import MessageStatus, OutboxMessage


class FollowUpVisitRow(Base):
    __tablename__ = "follow_up_visits"
    __table_args__ = (Index("ix_follow_up_visits_clinic_id_opens_on", "clinic_id", "opens_on"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    episode_id: Mapped[UUID] = mapped_column(ForeignKey("episodes.id"), index=True)
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    cycle_number: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(40))
    due_on: Mapped[date]
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    completed_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)


class QuestionnaireResponseRow(Base):
    __tablename__ = "questionnaire_responses"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    episode_id: Mapped[UUID] = mapped_column(ForeignKey("episodes.id"), index=True)
    visit_id: Mapped[UUID | None] = mapped_column(ForeignKey("follow_up_visits.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(20))
    instrument_version: Mapped[str] = mapped_column(String(40))
    answers: Mapped[dict[str, int]] = mapped_column(JSON)
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    entered_by: Mapped[str] = mapped_column(String(200))
    completed_at: Mapped[datetime | None]
    scores: Mapped[dict[str, float | None] | None] = mapped_column(JSON)


class RecoveryAcknowledgementRow(Base):
    __tablename__ = "recovery_acknowledgements"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    episode_id: Mapped[UUID] = mapped_column(ForeignKey("episodes.id"), index=True)
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patients.id"))
    cycle_number: Mapped[int] = mapped_column(Integer)
    acknowledged_at: Mapped[datetime]
    acknowledged_by: Mapped[str] = mapped_column(String(200))


class PortalLinkRow(Base):
    __tablename__ = "portal_links"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patients.id"))
    digest: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class PatientSessionRow(Base):
    __tablename__ = "patient_sessions"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patients.id"))
    digest: Mapped[str] = mapped_column(String(128), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_created_at", "status", "created_at"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    purpose: Mapped[str] = mapped_column(String(40))
    patient_id: Mapped[UUID | None] = mapped_column(ForeignKey("patients.id"))
    visit_id: Mapped[UUID | None] = mapped_column(ForeignKey("follow_up_visits.id"), index=True)
    secret_link: Mapped[str | None] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(str_enum(MessageStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


def _copy(row: Base, target: type[Any], **extra: Any) -> Any:
    names = target.__dataclass_fields__
    return target(**{name: getattr(row, name) for name in names if name not in extra} | extra)


def _update(row: Base, source: Any, names: Sequence[str]) -> None:
    for name in names:
        setattr(row, name, getattr(source, name))


class SqlFollowUpRepository(_Scoped):
    def add_visits(self, visits: Sequence[FollowUpVisit]) -> None:
        self.session.add_all(FollowUpVisitRow(**vars(visit)) for visit in visits)
        self.session.flush()

    def save_visit(self, visit: FollowUpVisit) -> None:
        row = self.session.get(FollowUpVisitRow, visit.id)
        assert row is not None, "a visit is saved after it was added"
        _update(row, visit, ("completed_at", "reminders_sent", "cancelled"))
        self.session.flush()

    def visits(
        self, episode_id: UUID | None = None, patient_id: UUID | None = None
    ) -> list[FollowUpVisit]:
        statement = select(FollowUpVisitRow)
        if episode_id is not None:
            statement = statement.where(FollowUpVisitRow.episode_id == episode_id)
        if patient_id is not None:
            statement = statement.where(FollowUpVisitRow.patient_id == patient_id)
        rows = self.session.scalars(
            self._in_scope(statement, FollowUpVisitRow.clinic_id).order_by(
                FollowUpVisitRow.cycle_number, FollowUpVisitRow.sequence
            )
        )
        return [_copy(row, FollowUpVisit) for row in rows]

    def get_visit(self, visit_id: UUID) -> FollowUpVisit | None:
        row = self.session.scalar(
            self._in_scope(
                select(FollowUpVisitRow).where(FollowUpVisitRow.id == visit_id),
                FollowUpVisitRow.clinic_id,
            )
        )
        return _copy(row, FollowUpVisit) if row is not None else None

    def open_visits(self, opened_by: date, closed_since: date) -> list[FollowUpVisit]:
        """Visits not completed nor cancelled whose window opened by ``opened_by`` and had
        not closed before ``closed_since``: what reminders and the worklist look at."""
        statement = select(FollowUpVisitRow).where(
            FollowUpVisitRow.completed_at.is_(None),
            FollowUpVisitRow.cancelled.is_(False),
            FollowUpVisitRow.opens_on <= opened_by,
            FollowUpVisitRow.closes_on >= closed_since,
        )
        rows = self.session.scalars(
            self._in_scope(statement, FollowUpVisitRow.clinic_id).order_by(
                FollowUpVisitRow.due_on, FollowUpVisitRow.id
            )
        )
        return [_copy(row, FollowUpVisit) for row in rows]

    def add_response(self, response: QuestionnaireResponse) -> None:
        self.session.add(QuestionnaireResponseRow(**vars(response)))
        self.session.flush()

    def save_response(self, response: QuestionnaireResponse) -> None:
        row = self.session.get(QuestionnaireResponseRow, response.id)
        assert row is not None, "a response is saved after it was added"
        row.answers = dict(response.answers)
        _update(row, response, ("updated_at", "completed_at", "scores"))
        self.session.flush()

    def responses(
        self,
        *,
        episode_id: UUID | None = None,
        patient_id: UUID | None = None,
        visit_id: UUID | None = None,
    ) -> list[QuestionnaireResponse]:
        statement = select(QuestionnaireResponseRow)
        for column, value in (
            (QuestionnaireResponseRow.episode_id, episode_id),
            (QuestionnaireResponseRow.patient_id, patient_id),
            (QuestionnaireResponseRow.visit_id, visit_id),
        ):
            if value is not None:
                statement = statement.where(column == value)
        rows = self.session.scalars(
            self._in_scope(statement, QuestionnaireResponseRow.clinic_id).order_by(
                QuestionnaireResponseRow.started_at, QuestionnaireResponseRow.id
            )
        )
        return [_copy(row, QuestionnaireResponse) for row in rows]

    def acknowledge_recovery(
        self,
        *,
        id: UUID,
        clinic_id: UUID,
        episode_id: UUID,
        patient_id: UUID,
        cycle_number: int,
        at: datetime,
        by: str,
    ) -> None:
        self.session.add(
            RecoveryAcknowledgementRow(
                id=id,
                clinic_id=clinic_id,
                episode_id=episode_id,
                patient_id=patient_id,
                cycle_number=cycle_number,
                acknowledged_at=at,
                acknowledged_by=by,
            )
        )
        self.session.flush()

    def recovery_acknowledged(self, episode_id: UUID, cycle_number: int) -> datetime | None:
        statement = select(RecoveryAcknowledgementRow.acknowledged_at).where(
            RecoveryAcknowledgementRow.episode_id == episode_id,
            RecoveryAcknowledgementRow.cycle_number == cycle_number,
        )
        scoped = self._in_scope(statement, RecoveryAcknowledgementRow.clinic_id)
        return self.session.scalar(scoped.order_by(RecoveryAcknowledgementRow.acknowledged_at))


class SqlPortalRepository(_Scoped):
    """Portal sign-ins: looked up by digest before anyone is known, so not scoped."""

    def add_link(self, link: PortalLink) -> None:
        self.session.add(PortalLinkRow(**vars(link)))
        self.session.flush()

    def link_by_digest(self, digest: str) -> PortalLink | None:
        row = self.session.scalar(select(PortalLinkRow).where(PortalLinkRow.digest == digest))
        return _copy(row, PortalLink) if row is not None else None

    def use_link(self, link_id: UUID, now: datetime) -> bool:
        """Spend the link; False when another request spent it first (single use)."""
        row = self.session.get(PortalLinkRow, link_id, with_for_update=True)
        if row is None or row.used_at is not None:
            return False
        row.used_at = now
        self.session.flush()
        return True

    def add_session(self, session: PatientSession) -> None:
        self.session.add(PatientSessionRow(**vars(session)))
        self.session.flush()

    def session_by_digest(self, digest: str) -> PatientSession | None:
        row = self.session.scalar(
            select(PatientSessionRow).where(PatientSessionRow.digest == digest)
        )
        return _copy(row, PatientSession) if row is not None else None

    def end_session(self, session_id: UUID, now: datetime) -> None:
        row = self.session.get(PatientSessionRow, session_id)
        if row is not None and row.ended_at is None:
            row.ended_at = now
            self.session.flush()


class SqlOutbox(_Scoped):
    def add(self, message: OutboxMessage) -> None:
        self.session.add(OutboxRow(**vars(message)))
        self.session.flush()

    def save(self, message: OutboxMessage) -> None:
        row = self.session.get(OutboxRow, message.id)
        assert row is not None, "a message is saved after it was added"
        _update(
            row,
            message,
            ("status", "attempts", "claimed_at", "sent_at", "last_error", "secret_link"),
        )
        self.session.flush()

    def in_status(self, status: MessageStatus, limit: int = 100) -> list[OutboxMessage]:
        """Messages in ``status``, oldest first; rows another worker holds are skipped (on
        PostgreSQL; SQLite has one writer at a time anyway)."""
        statement = (
            select(OutboxRow)
            .where(OutboxRow.status == status)
            .order_by(OutboxRow.created_at, OutboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = self.session.scalars(self._in_scope(statement, OutboxRow.clinic_id))
        return [_copy(row, OutboxMessage) for row in rows]

    def for_visit(self, visit_id: UUID) -> list[OutboxMessage]:
        rows = self.session.scalars(
            self._in_scope(
                select(OutboxRow).where(OutboxRow.visit_id == visit_id), OutboxRow.clinic_id
            ).order_by(OutboxRow.created_at)
        )
        return [_copy(row, OutboxMessage) for row in rows]
