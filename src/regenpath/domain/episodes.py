"""The care episode: one patient, one condition, one target, moving through the pathway."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from regenpath.domain import events as ev
from regenpath.domain.codes import icd10cm_code
from regenpath.domain.consent import ConsentDocument, SignedConsent, TreatmentPlan
from regenpath.domain.eligibility import Verdict
from regenpath.domain.errors import Guard, GuardFailure, InvalidValue, TransitionRefused
from regenpath.domain.evaluation import EligibilityRecord
from regenpath.domain.pathway import CYCLE_STAGES, TRANSITIONS, Stage, allowed_transitions
from regenpath.domain.patients import Patient
from regenpath.domain.procedures import InjectionRecord, Laterality
from regenpath.domain.products import (
    BedsideVerification,
    CellSource,
    Product,
    ProductStatus,
    administration_blockers,
    release_blockers,
)
from regenpath.domain.recovery import NO_NSAID_DAYS
from regenpath.domain.timeout import consent_scope_failures, time_out_failures


@dataclass
class TreatmentCycle:
    """One harvest or allocation leading to one injection; an episode may have several."""

    id: UUID
    number: int
    cell_source: CellSource
    stage: Stage
    planned_at: datetime
    product_id: UUID | None = None
    administered_at: datetime | None = None


@dataclass(frozen=True)
class TransitionRequest:
    """What a transition needs besides the target stage.

    The caller loads what the guards look at (the cycle's product, its latest bedside
    verification) and passes it in, so the domain decides without I/O.
    """

    to: Stage
    reason: str | None = None
    cell_source: CellSource | None = None
    new_cycle_id: UUID | None = None
    product: Product | None = None
    verification: BedsideVerification | None = None
    signed: bool = False  # an electronic signature accompanies the move (closing an episode)
    injection: InjectionRecord | None = None
    eligibility: EligibilityRecord | None = None  # the physician's decision (EL-*, EX-*)
    consent: SignedConsent | None = None  # the patient's signed consent ...
    consent_document: ConsentDocument | None = None  # ... and the current plan's document
    plan: TreatmentPlan | None = None  # the consented plan: the scope of cycles (CON-1, SITE-1)


@dataclass
class Episode:
    id: UUID
    clinic_id: UUID
    patient_id: UUID
    condition_code: str
    condition_text: str
    target_site: str
    laterality: Laterality
    opened_at: datetime
    stage: Stage = Stage.REFERRED
    consented_at: datetime | None = None
    closed_at: datetime | None = None
    cycles: list[TreatmentCycle] = field(default_factory=list)
    version: int = 1

    @classmethod
    def open(
        cls,
        *,
        id: UUID,
        clinic_id: UUID,
        patient_id: UUID,
        condition_code: str,
        condition_text: str,
        target_site: str,
        laterality: Laterality,
        now: datetime,
    ) -> Episode:
        code = icd10cm_code(condition_code)
        if not condition_text.strip():
            raise InvalidValue("condition_text", "describe the condition")
        if not target_site.strip():
            raise InvalidValue("target_site", "name the treated level or joint")
        return cls(
            id=id,
            clinic_id=clinic_id,
            patient_id=patient_id,
            condition_code=code,
            condition_text=condition_text.strip(),
            target_site=target_site.strip(),
            laterality=laterality,
            opened_at=now,
        )

    def signed_record(self, patient: Patient) -> dict[str, Any]:
        """What a closing signature binds to: who was treated, for what, and how.

        A later correction of any of it (the patient's identity, a cycle) changes the hash and
        shows the signature as invalidated.
        """
        return {
            "episode_id": str(self.id),
            "patient": {
                "id": str(patient.id),
                "mrn": patient.mrn,
                "family_name": patient.family_name,
                "given_name": patient.given_name,
                "birth_date": patient.birth_date.isoformat(),
            },
            "condition_code": self.condition_code,
            "condition_text": self.condition_text,
            "target_site": self.target_site,
            "laterality": self.laterality.value,
            "opened_at": self.opened_at.isoformat(),
            "consented_at": self.consented_at.isoformat() if self.consented_at else None,
            "cycles": [
                {
                    "number": c.number,
                    "cell_source": c.cell_source.value,
                    "product_id": str(c.product_id) if c.product_id else None,
                    "administered_at": c.administered_at.isoformat() if c.administered_at else None,
                }
                for c in self.cycles
            ],
        }

    @property
    def current_cycle(self) -> TreatmentCycle | None:
        return self.cycles[-1] if self.cycles else None

    @property
    def sessions_given(self) -> int:
        """Injections already given in this episode (each administered cycle is a session)."""
        return sum(1 for cycle in self.cycles if cycle.administered_at is not None)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def allowed_targets(self) -> list[Stage]:
        return [t.target for t in allowed_transitions(self.stage)]

    def transition(self, request: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        """Move to ``request.to`` if the table and every guard allow it.

        Raises :class:`TransitionRefused` naming each failed guard, and then nothing changed:
        every guard is checked before anything is written.
        """
        source = self.stage
        if (source, request.to) not in TRANSITIONS:
            allowed = ", ".join(self.allowed_targets()) or "none (the episode is closed)"
            raise TransitionRefused(
                [
                    GuardFailure(
                        Guard.TRANSITION_NOT_ALLOWED,
                        f"An episode in stage {source} cannot move to {request.to}; "
                        f"allowed: {allowed}.",
                    )
                ]
            )
        check, apply = _HANDLERS[request.to]
        failures = check(self, request, now)
        if failures:
            raise TransitionRefused(failures)
        events = apply(self, request, now)
        self.stage = request.to
        cycle = self.current_cycle
        if cycle is not None and request.to in CYCLE_STAGES:
            cycle.stage = request.to
        return events

    # -- guards -----------------------------------------------------------------------------

    def _needs_reason(self, request: TransitionRequest, _now: datetime) -> list[GuardFailure]:
        if request.reason is None or not request.reason.strip():
            return [GuardFailure(Guard.REASON_REQUIRED, f"Say why the episode is {request.to}.")]
        return []

    def _needs_consent(self) -> list[GuardFailure]:
        """No consent, no harvest and no injection (DESIGN.md section 2)."""
        if self.consented_at is None:
            return [GuardFailure(Guard.CONSENT_REQUIRED, "The patient has not consented.")]
        return []

    def _cycle_source_is(self, source: CellSource) -> list[GuardFailure]:
        cycle = self.current_cycle
        if cycle is not None and cycle.cell_source is source:
            return []
        guard = (
            Guard.AUTOLOGOUS_CYCLE_ONLY
            if source is CellSource.AUTOLOGOUS
            else Guard.ALLOGENEIC_CYCLE_ONLY
        )
        return [GuardFailure(guard, f"This step belongs to an {source} cycle.")]

    def _cycle_product(self, request: TransitionRequest) -> list[GuardFailure]:
        cycle = self.current_cycle
        if request.product is None or cycle is None or cycle.product_id is None:
            return [GuardFailure(Guard.PRODUCT_REQUIRED, "No product is assigned to this cycle.")]
        if request.product.id != cycle.product_id:
            return [
                GuardFailure(
                    Guard.PRODUCT_NOT_IN_THIS_CYCLE, "That product is not this cycle's product."
                )
            ]
        return []

    def _check_completed(self, request: TransitionRequest, _now: datetime) -> list[GuardFailure]:
        """Closing an episode is signed by the responsible physician (21 CFR 11.50, 11.200)."""
        if not request.signed:
            return [
                GuardFailure(
                    Guard.SIGNATURE_REQUIRED,
                    "Closing an episode needs the physician's electronic signature.",
                )
            ]
        return []

    def _check_nothing(self, _request: TransitionRequest, _now: datetime) -> list[GuardFailure]:
        return []

    def _check_follow_up(self, request: TransitionRequest, now: datetime) -> list[GuardFailure]:
        """RCV-1: recovery (no NSAIDs, no strenuous activity) lasts NO_NSAID_DAYS after the
        injection; follow-up starts when it is over, or earlier only with a clinician's reason
        (a patient who returns from lost to follow-up needs none)."""
        cycle = self.current_cycle
        if self.stage is not Stage.RECOVERY or cycle is None or cycle.administered_at is None:
            return []
        ends = cycle.administered_at + timedelta(days=NO_NSAID_DAYS)
        if now < ends and not (request.reason or "").strip():
            return [
                GuardFailure(
                    Guard.RECOVERY_NOT_OVER,
                    f"Recovery runs {NO_NSAID_DAYS} days, until {ends:%d %b %Y}: record why"
                    " follow-up starts early.",
                )
            ]
        return []

    def _check_eligible(self, request: TransitionRequest, _now: datetime) -> list[GuardFailure]:
        """Eligible only through the physician's decision on this episode's assessment."""
        decision = request.eligibility
        if decision is None or decision.episode_id != self.id or not decision.makes_eligible:
            return [
                GuardFailure(
                    Guard.ELIGIBILITY_DECISION_REQUIRED,
                    "Eligibility is decided on the recorded assessment, by the physician.",
                )
            ]
        return []

    def _check_consented(self, request: TransitionRequest, _now: datetime) -> list[GuardFailure]:
        """Consented only with the patient's signature on the document of the current plan."""
        return self._signed_consent_failures(request.consent, request.consent_document)

    def _signed_consent_failures(
        self, consent: SignedConsent | None, document: ConsentDocument | None
    ) -> list[GuardFailure]:
        if (
            consent is None
            or document is None
            or consent.episode_id != self.id
            or not consent.valid_for(document)
        ):
            return [
                GuardFailure(
                    Guard.SIGNED_CONSENT_REQUIRED,
                    "The patient's signed consent to the current treatment plan is needed.",
                )
            ]
        return []

    def invalidate_consent(self) -> None:
        """The plan changed or the patient withdrew: no harvest or injection until a new
        consent is signed (the stage stays; the consent guards read ``consented_at``)."""
        self.consented_at = None

    def renew_consent(
        self, consent: SignedConsent, document: ConsentDocument, now: datetime
    ) -> None:
        """A new signature on the changed plan, after the episode was first consented."""
        failures = self._signed_consent_failures(consent, document)
        if failures:
            raise TransitionRefused(failures)
        self.consented_at = now

    def _check_ineligible(self, request: TransitionRequest, _now: datetime) -> list[GuardFailure]:
        """Ineligible, like eligible, only through the physician's decision: the ruleset's
        verdict accepted, or their own judgement with a reason (a decline)."""
        decision = request.eligibility
        if (
            decision is None
            or decision.episode_id != self.id
            or decision.final is not Verdict.INELIGIBLE
        ):
            return [
                GuardFailure(
                    Guard.ELIGIBILITY_DECISION_REQUIRED,
                    "Eligibility is decided on the recorded assessment, by the physician.",
                )
            ]
        return []

    def _check_planned(self, request: TransitionRequest, _now: datetime) -> list[GuardFailure]:
        failures = self._needs_consent()
        if request.cell_source is None:
            failures.append(
                GuardFailure(
                    Guard.CELL_SOURCE_REQUIRED,
                    "Say whether the cycle uses autologous or allogeneic cells.",
                )
            )
        if request.new_cycle_id is None:
            raise ValueError("planning a cycle needs new_cycle_id from the caller")
        if not failures:
            failures += consent_scope_failures(
                request.plan, self.sessions_given, request.cell_source
            )
        return failures

    def _check_harvested(self, request: TransitionRequest, _now: datetime) -> list[GuardFailure]:
        failures = self._needs_consent() + self._cycle_source_is(CellSource.AUTOLOGOUS)
        product = request.product
        if product is None:
            failures.append(GuardFailure(Guard.PRODUCT_REQUIRED, "The harvest makes a product."))
        elif product.intended_patient_id != self.patient_id:
            failures.append(
                GuardFailure(Guard.PRODUCT_FOR_OTHER_PATIENT, "The harvest is for this patient.")
            )
        if not failures:
            failures += consent_scope_failures(request.plan, self.sessions_given, None, product)
        return failures

    def _check_processed(self, request: TransitionRequest, _now: datetime) -> list[GuardFailure]:
        """The lab records each processing step and then finishes processing (REC-1)."""
        failures = self._cycle_product(request)
        product = request.product
        if not failures and product is not None and product.processing_finished_at is None:
            failures.append(
                GuardFailure(
                    Guard.PROCESSING_NOT_FINISHED,
                    "The lab has not finished processing this product.",
                )
            )
        return failures

    def _check_released(self, request: TransitionRequest, now: datetime) -> list[GuardFailure]:
        """Only the lab's signed release decision releases a product (DON-7, EXP-1)."""
        failures = self._cycle_product(request)
        if failures or request.product is None:
            return failures
        if request.product.status is not ProductStatus.RELEASED:
            failures.append(
                GuardFailure(
                    Guard.PRODUCT_NOT_RELEASED,
                    "The lab releases the product under its signature once QC meets the "
                    "specification (DON-7).",
                )
            )
        if now >= request.product.expires_at:
            failures.append(
                GuardFailure(Guard.PRODUCT_EXPIRED, "The product expired before release.")
            )
        return failures

    def _check_allocated(self, request: TransitionRequest, now: datetime) -> list[GuardFailure]:
        """Allogeneic products are allocated released only (DON-5, DON-7; DESIGN.md s.2)."""
        failures = self._needs_consent() + self._cycle_source_is(CellSource.ALLOGENEIC)
        product = request.product
        if product is None:
            failures.append(GuardFailure(Guard.PRODUCT_REQUIRED, "Choose a released product."))
            return failures
        failures += release_blockers(product, now)
        if product.source is not CellSource.ALLOGENEIC:
            failures.append(
                GuardFailure(Guard.ALLOGENEIC_CYCLE_ONLY, "Only donor products are allocated.")
            )
        if product.intended_patient_id not in (None, self.patient_id):
            failures.append(
                GuardFailure(
                    Guard.PRODUCT_FOR_OTHER_PATIENT, "The product is allocated to another patient."
                )
            )
        return failures + consent_scope_failures(request.plan, self.sessions_given, None, product)

    def _check_administered(self, request: TransitionRequest, now: datetime) -> list[GuardFailure]:
        """Consent, a released unexpired product, a passed bedside check (BED-1, DON-7, EXP-1)."""
        failures = self._needs_consent() + self._cycle_product(request)
        if failures:
            return failures
        failures = administration_blockers(
            request.product, request.verification, self.patient_id, now
        )
        injection = request.injection
        if injection is None or request.product is None:
            failures.append(
                GuardFailure(
                    Guard.INJECTION_RECORD_REQUIRED,
                    "Record the injection (guidance, target, volume and dose per site).",
                )
            )
        elif injection.product_id != request.product.id or injection.episode_id != self.id:
            failures.append(
                GuardFailure(
                    Guard.PRODUCT_NOT_IN_THIS_CYCLE,
                    "The injection record names another product or episode.",
                )
            )
        else:
            failures += time_out_failures(
                target_site=self.target_site,
                laterality=self.laterality,
                plan=request.plan,
                injection=injection,
                product=request.product,
                administered=self.sessions_given,
            )
        return failures

    # -- effects ----------------------------------------------------------------------------

    def _start_evaluation(self, _r: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        return [ev.EvaluationStarted(self.id, now)]

    def _decide_eligible(self, request: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        return [ev.EligibilityDecided(self.id, now, eligible=True, reason=request.reason)]

    def _decide_ineligible(self, request: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        self.closed_at = now
        return [ev.EligibilityDecided(self.id, now, eligible=False, reason=request.reason)]

    def _consent(self, _request: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        self.consented_at = now
        return [ev.EpisodeConsented(self.id, now)]

    def _plan_cycle(self, request: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        assert request.new_cycle_id is not None and request.cell_source is not None
        number = len(self.cycles) + 1
        self.cycles.append(
            TreatmentCycle(
                id=request.new_cycle_id,
                number=number,
                cell_source=request.cell_source,
                stage=Stage.PLANNED,
                planned_at=now,
            )
        )
        return [ev.TreatmentCyclePlanned(self.id, now, number, request.cell_source.value)]

    def _harvest(self, request: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        cycle, product = self._cycle_and_product(request)
        cycle.product_id = product.id
        return [ev.CellsHarvested(self.id, now, cycle.number, product.id)]

    def _process(self, request: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        cycle, product = self._cycle_and_product(request)
        return [ev.ProductProcessed(self.id, now, cycle.number, product.id)]

    def _release(self, request: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        cycle, product = self._cycle_and_product(request)
        return [ev.ProductReleased(self.id, now, cycle.number, product.id, product.expires_at)]

    def _allocate(self, request: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        cycle, product = self._cycle_and_product(request)
        product.allocate_to(self.patient_id)
        cycle.product_id = product.id
        return [ev.ProductAllocated(self.id, now, cycle.number, product.id)]

    def _administer(self, request: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        cycle, product = self._cycle_and_product(request)
        product.administer(now)
        cycle.administered_at = now
        return [ev.ProductAdministered(self.id, now, cycle.number, product.id, self.patient_id)]

    def _start_recovery(self, _request: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        cycle = self.current_cycle
        assert cycle is not None
        return [ev.RecoveryStarted(self.id, now, cycle.number)]

    def _start_follow_up(self, _request: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        if self.stage is Stage.LOST_TO_FOLLOW_UP:
            return [ev.PatientReturnedToFollowUp(self.id, now)]
        return [ev.FollowUpStarted(self.id, now)]

    def _complete(self, _request: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        self.closed_at = now
        return [ev.EpisodeCompleted(self.id, now)]

    def _withdraw(self, request: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        assert request.reason is not None
        self.closed_at = now
        return [ev.EpisodeWithdrawn(self.id, now, self.stage.value, request.reason.strip())]

    def _lose(self, request: TransitionRequest, now: datetime) -> list[ev.DomainEvent]:
        return [ev.EpisodeLostToFollowUp(self.id, now, request.reason)]

    def _cycle_and_product(self, request: TransitionRequest) -> tuple[TreatmentCycle, Product]:
        cycle = self.current_cycle
        assert cycle is not None and request.product is not None, "guards ran first"
        return cycle, request.product


_Check = Callable[[Episode, TransitionRequest, datetime], list[GuardFailure]]
_Apply = Callable[[Episode, TransitionRequest, datetime], list[ev.DomainEvent]]


# One (guard, effect) pair per target stage; the table in pathway.py says which sources may
# reach it. Keeping the two apart means the allowed moves can be read without the guards.
_HANDLERS: dict[Stage, tuple[_Check, _Apply]] = {
    Stage.IN_EVALUATION: (Episode._check_nothing, Episode._start_evaluation),
    Stage.ELIGIBLE: (Episode._check_eligible, Episode._decide_eligible),
    Stage.INELIGIBLE: (Episode._check_ineligible, Episode._decide_ineligible),
    Stage.CONSENTED: (Episode._check_consented, Episode._consent),
    Stage.PLANNED: (Episode._check_planned, Episode._plan_cycle),
    Stage.HARVESTED: (Episode._check_harvested, Episode._harvest),
    Stage.PROCESSED: (Episode._check_processed, Episode._process),
    Stage.RELEASED: (Episode._check_released, Episode._release),
    Stage.PRODUCT_ALLOCATED: (Episode._check_allocated, Episode._allocate),
    Stage.ADMINISTERED: (Episode._check_administered, Episode._administer),
    Stage.RECOVERY: (Episode._check_nothing, Episode._start_recovery),
    Stage.FOLLOW_UP: (Episode._check_follow_up, Episode._start_follow_up),
    Stage.COMPLETED: (Episode._check_completed, Episode._complete),
    Stage.WITHDRAWN: (Episode._needs_reason, Episode._withdraw),
    Stage.LOST_TO_FOLLOW_UP: (Episode._check_nothing, Episode._lose),
}
