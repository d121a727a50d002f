"""Use cases of the evaluation: record the assessment (in versions), evaluate it against the
ruleset, and the physician's eligibility decision, which alone moves the episode on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from regenpath.domain.access import StaffMember
from regenpath.domain.assessment import Assessment
from regenpath.domain.audit import AuditAction
from regenpath.domain.eligibility import Decision, Ruleset, Verdict
from regenpath.domain.eligibility import evaluate as evaluate_rules
from regenpath.domain.episodes import Episode, TransitionRequest
from regenpath.domain.errors import Guard, GuardFailure, TransitionRefused
from regenpath.domain.evaluation import (
    DecisionKind,
    EligibilityRecord,
    RecordedAssessment,
    physician_verdict,
)
from regenpath.domain.pathway import Stage
from regenpath.services.audit import failures_recorded, record
from regenpath.services.clinics import clinic_day
from regenpath.services.episodes import check_version, move_loaded
from regenpath.services.errors import InvalidReference, NotFound
from regenpath.services.ports import Clock, IdFactory, UnitOfWork
from regenpath.services.signatures import Signer, add_signature

# The assessment may change while the episode is being evaluated, not after the decision.
OPEN_FOR_ASSESSMENT = frozenset({Stage.REFERRED, Stage.IN_EVALUATION})


def evaluate(ruleset: Ruleset, clock: Clock, assessment: Assessment) -> Decision:
    """Stateless: nothing is read or stored. "Today" is the UTC date: with no clinic, there is
    no other zone to take it from."""
    return evaluate_rules(assessment, ruleset, clock.now().date())


def _today(uow: UnitOfWork, clock: Clock, clinic_id: UUID) -> date:
    return clinic_day(uow, clinic_id, clock.now())


def _episode(uow: UnitOfWork, episode_id: UUID) -> Episode:
    episode = uow.episodes.get(episode_id)
    if episode is None:
        raise NotFound("episode", episode_id)
    return episode


def _latest(uow: UnitOfWork, episode: Episode) -> RecordedAssessment:
    latest = uow.evaluations.latest_assessment(episode.id)
    if latest is None:
        raise InvalidReference("assessment", "record the assessment first")
    return latest


def record_assessment(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    staff: StaffMember,
    episode_id: UUID,
    assessment: Assessment,
) -> RecordedAssessment:
    """The assessment as the physician recorded it; an edit is the next version, the earlier
    ones stay as they were (a decision cites the version it used)."""
    with failures_recorded(uow, clock, AuditAction.CREATE, "assessment", episode_id), uow:
        episode = _episode(uow, episode_id)
        if episode.stage not in OPEN_FOR_ASSESSMENT:
            message = f"The evaluation is over: the episode is {episode.stage.label.lower()}."
            raise TransitionRefused([GuardFailure(Guard.EVALUATION_CLOSED, message)])
        assessment.refuse_future_dates(_today(uow, clock, episode.clinic_id))
        latest = uow.evaluations.latest_assessment(episode.id)
        recorded = RecordedAssessment(
            id=new_id(),
            clinic_id=episode.clinic_id,
            episode_id=episode.id,
            version=latest.version + 1 if latest is not None else 1,
            assessment=assessment,
            recorded_at=clock.now(),
            recorded_by=staff.display_name,
        )
        uow.evaluations.add_assessment(recorded)
        record(
            uow,
            clock,
            AuditAction.CREATE,
            "assessment",
            recorded.id,
            episode.clinic_id,
            detail=f"episode {episode.id} version {recorded.version}",
        )
        uow.commit()
    return recorded


def assessment_versions(
    uow: UnitOfWork, clock: Clock, episode_id: UUID
) -> list[RecordedAssessment]:
    """Every version of the episode's assessment, newest first."""
    with failures_recorded(uow, clock, AuditAction.READ, "assessment", episode_id), uow:
        episode = _episode(uow, episode_id)
        found = uow.evaluations.assessments(episode.id)
        record(uow, clock, AuditAction.READ, "assessment", episode.id, episode.clinic_id)
        uow.commit()
    return found


@dataclass(frozen=True)
class Evaluation:
    """The ruleset's verdict on an episode's latest assessment; ``record`` is the stored
    evaluation, ``history`` every evaluation and decision on the episode, newest first."""

    assessment: RecordedAssessment
    decision: Decision
    record: EligibilityRecord | None = None
    history: tuple[EligibilityRecord, ...] = ()


def _evaluation_record(
    new_id: IdFactory,
    clock: Clock,
    staff: StaffMember,
    recorded: RecordedAssessment,
    decision: Decision,
    kind: DecisionKind,
    final: Verdict | None = None,
    reason: str | None = None,
) -> EligibilityRecord:
    return EligibilityRecord(
        id=new_id(),
        clinic_id=recorded.clinic_id,
        episode_id=recorded.episode_id,
        assessment_version=recorded.version,
        ruleset_version=decision.ruleset_version,
        kind=kind,
        computed=decision.verdict,
        findings=decision.findings,
        decided_at=clock.now(),
        decided_by=staff.display_name,
        final=final,
        reason=reason,
    )


def evaluate_episode(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    ruleset: Ruleset,
    staff: StaffMember,
    episode_id: UUID,
) -> Evaluation:
    """Evaluate the latest assessment and store the verdict with its findings."""
    with failures_recorded(uow, clock, AuditAction.CREATE, "eligibility", episode_id), uow:
        episode = _episode(uow, episode_id)
        recorded = _latest(uow, episode)
        decision = evaluate_rules(
            recorded.assessment, ruleset, _today(uow, clock, episode.clinic_id)
        )
        stored = _evaluation_record(
            new_id, clock, staff, recorded, decision, DecisionKind.EVALUATED
        )
        uow.evaluations.add_decision(stored)
        record(
            uow,
            clock,
            AuditAction.CREATE,
            "eligibility",
            stored.id,
            episode.clinic_id,
            detail=f"evaluated: {decision.verdict} ({ruleset.version})",
        )
        uow.commit()
    return Evaluation(recorded, decision, stored)


def read_evaluation(
    uow: UnitOfWork, clock: Clock, ruleset: Ruleset, episode_id: UUID
) -> Evaluation | None:
    """The latest assessment with the verdict the ruleset gives it today (nothing stored), or
    None before any assessment; for the evaluation page."""
    with failures_recorded(uow, clock, AuditAction.READ, "assessment", episode_id), uow:
        episode = _episode(uow, episode_id)
        recorded = uow.evaluations.latest_assessment(episode.id)
        decisions = uow.evaluations.decisions(episode.id)
        record(uow, clock, AuditAction.READ, "assessment", episode.id, episode.clinic_id)
        uow.commit()
        if recorded is None:
            return None
        today = _today(uow, clock, episode.clinic_id)
    decision = evaluate_rules(recorded.assessment, ruleset, today)
    return Evaluation(recorded, decision, history=tuple(decisions))


@dataclass(frozen=True)
class DecideEligibility:
    episode_id: UUID
    expected_version: int
    override: bool = False
    reason: str | None = None
    decline: bool = False


def decide_eligibility(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    ruleset: Ruleset,
    signer: Signer,
    command: DecideEligibility,
) -> EligibilityRecord:
    """The physician's decision on the latest assessment, evaluated afresh: accept the
    computed verdict, or override SOFT findings with a reason under their electronic signature
    (the password is asked again only for an override). The episode moves to eligible or
    ineligible in the same transaction; a HARD exclusion, a verdict waiting for data, or an
    override without a reason is refused and nothing is written."""
    reason = (command.reason or "").strip() or None
    with failures_recorded(uow, clock, AuditAction.TRANSITION, "episode", command.episode_id):
        if command.override:
            with uow:
                _episode(uow, command.episode_id)  # another clinic's: "not found" first
            signer.reauthenticate(uow, clock)
        with uow:
            episode = _episode(uow, command.episode_id)
            check_version(episode, command.expected_version)
            recorded = _latest(uow, episode)  # a decision, even a decline, cites an assessment
            decision = evaluate_rules(
                recorded.assessment, ruleset, _today(uow, clock, episode.clinic_id)
            )
            final = physician_verdict(decision, command.override, reason, command.decline)
            kind = (
                DecisionKind.DECLINED
                if command.decline
                else DecisionKind.OVERRIDDEN
                if command.override
                else DecisionKind.ACCEPTED
            )
            stored = _evaluation_record(
                new_id, clock, signer.staff, recorded, decision, kind, final, reason
            )
            summary = "; ".join(f"{f.rule_id}: {f.message}" for f in decision.findings)
            request = TransitionRequest(
                to=Stage.ELIGIBLE if final is Verdict.ELIGIBLE else Stage.INELIGIBLE,
                reason=reason or (summary[:2000] if final is Verdict.INELIGIBLE else None),
                eligibility=stored,
                signed=command.override,
            )
            move_loaded(uow, clock, episode, request)
            uow.evaluations.add_decision(stored)
            if command.override:
                content = {
                    "episode_id": str(episode.id),
                    "assessment_version": recorded.version,
                    "ruleset_version": ruleset.version,
                    "overridden": [f.rule_id for f in decision.findings if not f.lacks_data],
                    "reason": reason,
                }
                add_signature(
                    uow, clock, new_id, signer, "eligibility", stored.id, episode.clinic_id, content
                )
            uow.commit()
    return stored
