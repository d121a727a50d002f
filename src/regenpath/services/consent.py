"""Use cases of the treatment plan and the informed consent generated from it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from uuid import UUID

from regenpath.domain.access import StaffMember
from regenpath.domain.audit import AuditAction
from regenpath.domain.consent import (
    ConsentDocument,
    PlanDetails,
    SignedConsent,
    TreatmentPlan,
    consent_blockers,
    consent_document,
)
from regenpath.domain.episodes import Episode, TransitionRequest
from regenpath.domain.errors import Guard, GuardFailure, InvalidValue, TransitionRefused
from regenpath.domain.pathway import Stage
from regenpath.services.audit import failures_recorded, record
from regenpath.services.episodes import check_version, move_loaded
from regenpath.services.errors import InvalidReference, NotFound
from regenpath.services.ports import Clock, IdFactory, TimelineEntry, UnitOfWork

# A plan is made once the patient is eligible, and may change until the episode closes.
PLANNABLE = frozenset(
    {
        Stage.ELIGIBLE,
        Stage.CONSENTED,
        Stage.PLANNED,
        Stage.HARVESTED,
        Stage.PROCESSED,
        Stage.RELEASED,
        Stage.PRODUCT_ALLOCATED,
        Stage.RECOVERY,
        Stage.FOLLOW_UP,
    }
)


def _episode(uow: UnitOfWork, episode_id: UUID) -> Episode:
    episode = uow.episodes.get(episode_id)
    if episode is None:
        raise NotFound("episode", episode_id)
    return episode


def _note(uow: UnitOfWork, clock: Clock, episode: Episode, version: int, reason: str) -> None:
    """Save a change that keeps the stage (a consent lost or renewed) with a timeline line."""
    uow.episodes.save(
        episode,
        version,
        TimelineEntry(
            episode_id=episode.id,
            from_stage=episode.stage,
            to_stage=episode.stage,
            occurred_at=clock.now(),
            cycle_number=None,
            reason=reason,
            events=[],
        ),
    )


def save_plan(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    staff: StaffMember,
    episode_id: UUID,
    details: PlanDetails,
) -> TreatmentPlan:
    """The treatment plan; a change is the next version and voids a consent signed on the
    earlier one (no harvest or injection until the patient signs again)."""
    with failures_recorded(uow, clock, AuditAction.CREATE, "treatment_plan", episode_id), uow:
        episode = _episode(uow, episode_id)
        if episode.stage not in PLANNABLE:
            message = f"A plan follows the eligibility decision; the episode is {episode.stage}."
            raise TransitionRefused([GuardFailure(Guard.TRANSITION_NOT_ALLOWED, message)])
        latest = uow.evaluations.latest_plan(episode.id)
        plan = TreatmentPlan(
            id=new_id(),
            clinic_id=episode.clinic_id,
            episode_id=episode.id,
            version=latest.version + 1 if latest is not None else 1,
            created_at=clock.now(),
            created_by=staff.display_name,
            **{f.name: getattr(details, f.name) for f in fields(PlanDetails)},
        )
        uow.evaluations.add_plan(plan)
        if episode.consented_at is not None:
            version = episode.version
            episode.invalidate_consent()
            reason = f"Consent no longer matches the changed plan (version {plan.version})"
            _note(uow, clock, episode, version, reason)
        record(
            uow,
            clock,
            AuditAction.CREATE,
            "treatment_plan",
            plan.id,
            episode.clinic_id,
            detail=f"version {plan.version}: {plan.classification.pathway}",
        )
        uow.commit()
    return plan


@dataclass(frozen=True)
class ConsentView:
    """What the consent page shows: the current plan's document and where consent stands."""

    episode: Episode
    patient_name: str
    plan: TreatmentPlan | None
    document: ConsentDocument | None
    consents: list[SignedConsent] = field(default_factory=list)
    blockers: list[GuardFailure] = field(default_factory=list)

    @property
    def current(self) -> SignedConsent | None:
        """The consent that counts now: signed on this document and not withdrawn."""
        if self.document is None:
            return None
        return next((c for c in self.consents if c.valid_for(self.document)), None)


def consent_view(uow: UnitOfWork, clock: Clock, episode_id: UUID) -> ConsentView:
    with failures_recorded(uow, clock, AuditAction.READ, "consent", episode_id), uow:
        episode = _episode(uow, episode_id)
        patient = uow.patients.get(episode.patient_id)
        clinic = uow.clinics.get(episode.clinic_id)
        assert patient is not None and clinic is not None, "an episode's own records"
        plan = uow.evaluations.latest_plan(episode.id)
        view = ConsentView(
            episode=episode,
            patient_name=f"{patient.given_name} {patient.family_name}",
            plan=plan,
            document=consent_document(plan, clinic.name) if plan is not None else None,
            consents=uow.evaluations.consents(episode.id),
            blockers=consent_blockers(plan) if plan is not None else [],
        )
        record(uow, clock, AuditAction.READ, "consent", episode.id, episode.clinic_id)
        uow.commit()
    return view


def plan_versions(uow: UnitOfWork, clock: Clock, episode_id: UUID) -> list[TreatmentPlan]:
    with failures_recorded(uow, clock, AuditAction.READ, "treatment_plan", episode_id), uow:
        episode = _episode(uow, episode_id)
        found = uow.evaluations.plans(episode.id)
        record(uow, clock, AuditAction.READ, "treatment_plan", episode.id, episode.clinic_id)
        uow.commit()
    return found


@dataclass(frozen=True)
class SignConsent:
    episode_id: UUID
    expected_version: int
    document_hash: str  # of the document the patient read
    signed_name: str  # typed by the patient
    agreed: bool


def _same_name(typed: str, given: str, family: str) -> bool:
    words = sorted(typed.lower().replace(",", " ").split())
    return words == sorted(f"{given} {family}".lower().split())


def sign_consent(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, witness: StaffMember, command: SignConsent
) -> SignedConsent:
    """The patient signs the document of the current plan on the clinic's tablet, by typing
    their name; the member of staff who hands it over witnesses. The first consent moves the
    episode to consented; a later one restores the consent a plan change voided."""
    if not command.agreed:
        raise InvalidValue("agreed", "the patient confirms they read and understood the document")
    with failures_recorded(uow, clock, AuditAction.SIGN, "consent", command.episode_id), uow:
        episode = _episode(uow, command.episode_id)
        check_version(episode, command.expected_version)
        patient = uow.patients.get(episode.patient_id)
        clinic = uow.clinics.get(episode.clinic_id)
        assert patient is not None and clinic is not None, "an episode's own records"
        if not _same_name(command.signed_name, patient.given_name, patient.family_name):
            raise InvalidValue("signed_name", "type the full name as on the patient's record")
        plan = uow.evaluations.latest_plan(episode.id)
        if plan is None:
            raise InvalidReference("plan", "make the treatment plan first")
        document = consent_document(plan, clinic.name)
        if command.document_hash != document.content_hash:
            message = "The plan changed while the document was read; read the current one."
            raise TransitionRefused([GuardFailure(Guard.CONSENT_DOCUMENT_CHANGED, message)])
        if blockers := consent_blockers(plan):
            raise TransitionRefused(blockers)
        consent = SignedConsent(
            id=new_id(),
            clinic_id=episode.clinic_id,
            episode_id=episode.id,
            plan_id=plan.id,
            plan_version=plan.version,
            template_version=document.template_version,
            document_hash=document.content_hash,
            signed_name=command.signed_name.strip(),
            signed_at=clock.now(),
            witnessed_by=witness.display_name,
        )
        if episode.stage is Stage.ELIGIBLE:
            request = TransitionRequest(
                to=Stage.CONSENTED, consent=consent, consent_document=document
            )
            move_loaded(uow, clock, episode, request)
        elif episode.consented_at is None:
            version = episode.version
            episode.renew_consent(consent, document, clock.now())
            _note(uow, clock, episode, version, f"Consent signed on plan version {plan.version}")
        uow.evaluations.add_consent(consent)
        record(
            uow,
            clock,
            AuditAction.SIGN,
            "consent",
            consent.id,
            episode.clinic_id,
            detail=f"plan version {plan.version}, document {document.content_hash[:12]}",
        )
        uow.commit()
    return consent


def withdraw_consent(
    uow: UnitOfWork,
    clock: Clock,
    staff: StaffMember,
    episode_id: UUID,
    consent_id: UUID,
    reason: str,
) -> SignedConsent:
    """The patient withdraws: recorded with the reason; no harvest or injection follows."""
    if not reason.strip():
        raise InvalidValue("reason", "record what the patient said")
    with failures_recorded(uow, clock, AuditAction.UPDATE, "consent", consent_id), uow:
        episode = _episode(uow, episode_id)
        found = next((c for c in uow.evaluations.consents(episode.id) if c.id == consent_id), None)
        if found is None:
            raise NotFound("consent", consent_id)
        if found.withdrawn_at is not None:
            raise InvalidValue("consent_id", "this consent was already withdrawn")
        withdrawn = SignedConsent(
            **{**found.__dict__, "withdrawn_at": clock.now(), "withdrawal_reason": reason}
        )
        uow.evaluations.save_consent(withdrawn)
        if episode.consented_at is not None:
            version = episode.version
            episode.invalidate_consent()
            _note(uow, clock, episode, version, f"Consent withdrawn: {reason.strip()}")
        record(
            uow,
            clock,
            AuditAction.UPDATE,
            "consent",
            consent_id,
            episode.clinic_id,
            reason=reason,
            detail=f"withdrawn by the patient, recorded by {staff.display_name}",
        )
        uow.commit()
    return withdrawn
