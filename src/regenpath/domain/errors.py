"""Errors the domain raises when a rule refuses a command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Guard(StrEnum):
    """The name of each rule that can refuse a pathway transition.

    The value is what the API returns in ``guard`` and what the web shell explains, so it
    is part of the public contract: add names, never rename them.
    """

    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    REASON_REQUIRED = "reason_required"
    CONSENT_REQUIRED = "consent_required"
    CELL_SOURCE_REQUIRED = "cell_source_required"
    AUTOLOGOUS_CYCLE_ONLY = "autologous_cycle_only"
    ALLOGENEIC_CYCLE_ONLY = "allogeneic_cycle_only"
    PRODUCT_REQUIRED = "product_required"
    PRODUCT_NOT_IN_THIS_CYCLE = "product_not_in_this_cycle"
    PRODUCT_FOR_OTHER_PATIENT = "product_for_other_patient"
    PRODUCT_NOT_RELEASED = "product_not_released"
    PRODUCT_QUARANTINED = "product_quarantined"
    PRODUCT_EXPIRED = "product_expired"
    DONOR_ELIGIBILITY_INCOMPLETE = "donor_eligibility_incomplete"
    DONOR_INELIGIBLE = "donor_ineligible"
    BEDSIDE_VERIFICATION_REQUIRED = "bedside_verification_required"
    BEDSIDE_VERIFICATION_FAILED = "bedside_verification_failed"
    SIGNATURE_REQUIRED = "signature_required"
    PROCESSING_NOT_FINISHED = "processing_not_finished"
    PRODUCT_NOT_AWAITING_RELEASE = "product_not_awaiting_release"
    QC_SPECIFICATION_NOT_MET = "qc_specification_not_met"
    PRODUCT_RECALLED = "product_recalled"
    INJECTION_RECORD_REQUIRED = "injection_record_required"
    DONOR_DETERMINATION_UNSUPPORTED = "donor_determination_unsupported"
    ELIGIBILITY_DECISION_REQUIRED = "eligibility_decision_required"
    ASSESSMENT_INCOMPLETE = "assessment_incomplete"
    NOTHING_TO_OVERRIDE = "nothing_to_override"
    HARD_EXCLUSION = "hard_exclusion"
    EVALUATION_CLOSED = "evaluation_closed"
    IND_OR_BLA_REQUIRED = "ind_or_bla_required"
    SIGNED_CONSENT_REQUIRED = "signed_consent_required"
    CONSENT_DOCUMENT_CHANGED = "consent_document_changed"
    # CON-1: a cycle stays within what the signed consent covers.
    CONSENTED_PLAN_REQUIRED = "consented_plan_required"
    CONSENT_SCOPE_SESSIONS = "consent_scope_sessions"
    CONSENT_SCOPE_CELL_SOURCE = "consent_scope_cell_source"
    CONSENT_SCOPE_PRODUCT = "consent_scope_product"
    # SITE-1: the procedure-room time-out (Universal Protocol).
    TIME_OUT_INCOMPLETE = "time_out_incomplete"
    WRONG_SITE = "wrong_site"
    WRONG_SIDE = "wrong_side"
    WRONG_APPROACH = "wrong_approach"
    WRONG_GUIDANCE = "wrong_guidance"
    # RCV-1: follow-up starts after the recovery window, unless a clinician says why.
    RECOVERY_NOT_OVER = "recovery_not_over"


@dataclass(frozen=True)
class GuardFailure:
    """One refused rule, with a message a clinician can act on."""

    guard: Guard
    message: str


class DomainError(Exception):
    """Base of the errors raised by the domain."""


class TransitionRefused(DomainError):
    """A transition was refused; nothing changed. ``failures`` lists every rule that said no."""

    def __init__(self, failures: list[GuardFailure]) -> None:
        if not failures:
            raise ValueError("a refusal needs at least one failed guard")
        self.failures = failures
        super().__init__("; ".join(f"{f.guard}: {f.message}" for f in failures))

    @property
    def guard(self) -> Guard:
        """The first rule that refused: the one to fix first."""
        return self.failures[0].guard


# A clock a few minutes off must not refuse an honest entry; an entry dated later is a typo.
CLOCK_TOLERANCE = timedelta(minutes=5)


def refuse_future(field: str, value: datetime, now: datetime, what: str) -> None:
    """Records are made when the step is done (REC-1): nothing is dated in the future."""
    if value > now + CLOCK_TOLERANCE:
        raise InvalidValue(field, f"{what} cannot be dated in the future")


class InvalidValue(DomainError):
    """A value breaks a domain invariant; ``field`` names it for the caller."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")
