"""Assessments and treatment plans (one row per version), eligibility decisions and signed
consents. Assessments and plans are JSON documents next to the columns a query needs;
pydantic's TypeAdapter turns the domain's dataclasses into JSON and back, so a new field needs
no new column."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from regenpath.adapters.db.products import _record, _values
from regenpath.adapters.db.repositories import _Scoped
from regenpath.adapters.db.tables import Base
from regenpath.adapters.db.types import str_enum
from regenpath.domain.assessment import Assessment
from regenpath.domain.consent import SignedConsent, TreatmentPlan
from regenpath.domain.eligibility import Finding, Verdict
from regenpath.domain.evaluation import DecisionKind, EligibilityRecord, RecordedAssessment

_ASSESSMENT = TypeAdapter(Assessment)
_FINDINGS = TypeAdapter(tuple[Finding, ...])
_PLAN = TypeAdapter(TreatmentPlan)


class AssessmentRow(Base):
    __tablename__ = "assessments"
    __table_args__ = (
        Index("uq_assessments_episode_id_version", "episode_id", "version", unique=True),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    episode_id: Mapped[UUID] = mapped_column(ForeignKey("episodes.id"))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(200))


class EligibilityDecisionRow(Base):
    __tablename__ = "eligibility_decisions"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    episode_id: Mapped[UUID] = mapped_column(ForeignKey("episodes.id"), index=True)
    assessment_version: Mapped[int] = mapped_column(Integer)
    ruleset_version: Mapped[str] = mapped_column(String(100))
    kind: Mapped[DecisionKind] = mapped_column(str_enum(DecisionKind))
    computed: Mapped[Verdict] = mapped_column(str_enum(Verdict))
    final: Mapped[Verdict | None] = mapped_column(str_enum(Verdict))
    findings: Mapped[list[Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime]
    decided_by: Mapped[str] = mapped_column(String(200))


class TreatmentPlanRow(Base):
    __tablename__ = "treatment_plans"
    __table_args__ = (
        Index("uq_treatment_plans_episode_id_version", "episode_id", "version", unique=True),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    episode_id: Mapped[UUID] = mapped_column(ForeignKey("episodes.id"))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class ConsentRow(Base):
    __tablename__ = "consents"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    clinic_id: Mapped[UUID] = mapped_column(ForeignKey("clinics.id"))
    episode_id: Mapped[UUID] = mapped_column(ForeignKey("episodes.id"), index=True)
    plan_id: Mapped[UUID] = mapped_column(ForeignKey("treatment_plans.id"))
    plan_version: Mapped[int] = mapped_column(Integer)
    template_version: Mapped[str] = mapped_column(String(40))
    document_hash: Mapped[str] = mapped_column(String(64))
    signed_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime]
    witnessed_by: Mapped[str] = mapped_column(String(200))
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)


def _recorded(row: AssessmentRow) -> RecordedAssessment:
    return RecordedAssessment(
        id=row.id,
        clinic_id=row.clinic_id,
        episode_id=row.episode_id,
        version=row.version,
        assessment=_ASSESSMENT.validate_python(row.data),
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
    )


def _decision(row: EligibilityDecisionRow) -> EligibilityRecord:
    return EligibilityRecord(
        id=row.id,
        clinic_id=row.clinic_id,
        episode_id=row.episode_id,
        assessment_version=row.assessment_version,
        ruleset_version=row.ruleset_version,
        kind=row.kind,
        computed=row.computed,
        findings=_FINDINGS.validate_python(row.findings),
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        final=row.final,
        reason=row.reason,
    )


def assessment_json(assessment: Assessment) -> dict[str, Any]:
    data: dict[str, Any] = _ASSESSMENT.dump_python(assessment, mode="json")
    return data


class SqlEvaluationRepository(_Scoped):
    def add_assessment(self, recorded: RecordedAssessment) -> None:
        self.session.add(
            AssessmentRow(
                id=recorded.id,
                clinic_id=recorded.clinic_id,
                episode_id=recorded.episode_id,
                version=recorded.version,
                data=assessment_json(recorded.assessment),
                recorded_at=recorded.recorded_at,
                recorded_by=recorded.recorded_by,
            )
        )
        self.session.flush()

    def _for_episode(self, row_type: Any, episode_id: UUID, *order: Any) -> Sequence[Any]:
        """The episode's rows of ``row_type`` in the caller's clinics, in ``order``."""
        return self.session.scalars(
            self._in_scope(
                select(row_type).where(row_type.episode_id == episode_id), row_type.clinic_id
            ).order_by(*order)
        ).all()

    def assessments(self, episode_id: UUID) -> list[RecordedAssessment]:
        """Every version, newest first."""
        rows = self._for_episode(AssessmentRow, episode_id, AssessmentRow.version.desc())
        return [_recorded(row) for row in rows]

    def latest_assessment(self, episode_id: UUID) -> RecordedAssessment | None:
        found = self.assessments(episode_id)
        return found[0] if found else None

    def add_decision(self, record: EligibilityRecord) -> None:
        self.session.add(
            EligibilityDecisionRow(
                id=record.id,
                clinic_id=record.clinic_id,
                episode_id=record.episode_id,
                assessment_version=record.assessment_version,
                ruleset_version=record.ruleset_version,
                kind=record.kind,
                computed=record.computed,
                final=record.final,
                findings=_FINDINGS.dump_python(record.findings, mode="json"),
                reason=record.reason,
                decided_at=record.decided_at,
                decided_by=record.decided_by,
            )
        )
        self.session.flush()

    def add_plan(self, plan: TreatmentPlan) -> None:
        self.session.add(
            TreatmentPlanRow(
                id=plan.id,
                clinic_id=plan.clinic_id,
                episode_id=plan.episode_id,
                version=plan.version,
                data=_PLAN.dump_python(plan, mode="json"),
                created_at=plan.created_at,
            )
        )
        self.session.flush()

    def plans(self, episode_id: UUID) -> list[TreatmentPlan]:
        """Every version, newest first."""
        rows = self._for_episode(TreatmentPlanRow, episode_id, TreatmentPlanRow.version.desc())
        return [_PLAN.validate_python(row.data) for row in rows]

    def latest_plan(self, episode_id: UUID) -> TreatmentPlan | None:
        found = self.plans(episode_id)
        return found[0] if found else None

    def add_consent(self, consent: SignedConsent) -> None:
        self.session.add(ConsentRow(**_values(consent)))
        self.session.flush()

    def save_consent(self, consent: SignedConsent) -> None:
        row = self.session.get(ConsentRow, consent.id)
        assert row is not None, "a consent is saved after it was added"
        row.withdrawn_at = consent.withdrawn_at
        row.withdrawal_reason = consent.withdrawal_reason
        self.session.flush()

    def consents(self, episode_id: UUID) -> list[SignedConsent]:
        """Every signed consent, newest first."""
        rows = self._for_episode(ConsentRow, episode_id, ConsentRow.signed_at.desc(), ConsentRow.id)
        return [_record(SignedConsent, row) for row in rows]

    def decisions(self, episode_id: UUID) -> list[EligibilityRecord]:
        """Evaluations and decisions, newest first."""
        row = EligibilityDecisionRow
        rows = self._for_episode(row, episode_id, row.decided_at.desc(), row.id)
        return [_decision(row) for row in rows]
