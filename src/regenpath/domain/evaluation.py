"""The physician's eligibility decision on a recorded assessment (DESIGN.md section 2).

An assessment is recorded in versions: an edit is a new version and a decision cites the one
it used, with the ruleset's version, so a decision can always be read as it was made. The
physician accepts the computed verdict, or overrides SOFT findings and unmet inclusions with a
written reason and an electronic signature; a HARD exclusion is never overridden, and a
verdict that waits for data (``needs_review``) cannot be accepted until the data is in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from regenpath.domain.assessment import Assessment
from regenpath.domain.eligibility import Decision, Finding, RuleKind, Verdict
from regenpath.domain.errors import Guard, GuardFailure, TransitionRefused


@dataclass(frozen=True)
class RecordedAssessment:
    id: UUID
    clinic_id: UUID
    episode_id: UUID
    version: int  # 1, 2, ... per episode; an edit is the next version
    assessment: Assessment
    recorded_at: datetime
    recorded_by: str


class DecisionKind(StrEnum):
    EVALUATED = "evaluated"  # the ruleset's verdict, stored as computed
    ACCEPTED = "accepted"  # the physician accepted the computed verdict
    OVERRIDDEN = "overridden"  # the physician overrode SOFT findings (reason + signature)
    DECLINED = "declined"  # the physician's judgement: not a candidate, whatever the verdict


@dataclass(frozen=True)
class EligibilityRecord:
    id: UUID
    clinic_id: UUID
    episode_id: UUID
    assessment_version: int
    ruleset_version: str
    kind: DecisionKind
    computed: Verdict
    findings: tuple[Finding, ...]
    decided_at: datetime
    decided_by: str
    final: Verdict | None = None  # the physician's verdict; None for an evaluation only
    reason: str | None = None

    @property
    def makes_eligible(self) -> bool:
        return self.final is Verdict.ELIGIBLE


def physician_verdict(
    computed: Decision, override: bool, reason: str | None, decline: bool = False
) -> Verdict:
    """The verdict the physician may record on ``computed``; anything else is refused with
    the rule that says no. A decline ("not an ideal candidate") is always open to the
    physician, with a reason, even while data is missing."""
    if decline:
        if reason is None or not reason.strip():
            raise TransitionRefused(
                [GuardFailure(Guard.REASON_REQUIRED, "Say why the patient is not a candidate.")]
            )
        return Verdict.INELIGIBLE
    if computed.verdict is Verdict.NEEDS_REVIEW:
        missing = ", ".join(computed.missing)
        raise TransitionRefused(
            [
                GuardFailure(
                    Guard.ASSESSMENT_INCOMPLETE, f"Complete the assessment first: {missing}."
                )
            ]
        )
    if not override:
        return computed.verdict
    if computed.verdict is Verdict.ELIGIBLE:
        raise TransitionRefused(
            [GuardFailure(Guard.NOTHING_TO_OVERRIDE, "The ruleset found nothing to override.")]
        )
    if not computed.overridable:
        hard = ", ".join(f.rule_id for f in computed.findings if f.kind is RuleKind.HARD)
        raise TransitionRefused(
            [GuardFailure(Guard.HARD_EXCLUSION, f"A HARD exclusion cannot be overridden ({hard}).")]
        )
    if reason is None or not reason.strip():
        raise TransitionRefused(
            [GuardFailure(Guard.REASON_REQUIRED, "Say why these findings are overridden.")]
        )
    return Verdict.ELIGIBLE
