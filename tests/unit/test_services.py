"""Use cases over in-memory fakes: what gets committed, and what never does."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from regenpath.adapters.rulesets import load_ruleset
from regenpath.domain.access import StaffMember
from regenpath.domain.audit import AuditAction, AuditOutcome
from regenpath.domain.consent import Payment, PlanDetails
from regenpath.domain.errors import Guard, TransitionRefused
from regenpath.domain.pathway import Stage
from regenpath.domain.patients import AdministrativeSex
from regenpath.domain.procedures import Guidance, Laterality
from regenpath.domain.products import CellSource, ProductType
from regenpath.domain.quality import ProcessingKind
from regenpath.services import clinics, consent, episodes, evaluation, patients
from regenpath.services.errors import DuplicateValue, InvalidReference, StaleVersion
from regenpath.services.signatures import Signer
from tests.support import SequentialIds, TestClock
from tests.unit.builders import SPINE
from tests.unit.fakes import FakeUnitOfWork

HOLD = timedelta(hours=48)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def ids() -> SequentialIds:
    return SequentialIds()


def register(uow, clock, ids, mrn="RS-1"):
    clinic = clinics.create_clinic(uow, clock, ids, name="Riverside", time_zone="America/Chicago")
    return patients.register_patient(
        uow,
        clock,
        ids,
        patients.PatientDetails(
            clinic_id=clinic.id,
            mrn=mrn,
            family_name="Hale",
            given_name="Avery",
            birth_date=date(1970, 5, 17),
            sex=AdministrativeSex.FEMALE,
        ),
    )


def open_for(uow, clock, ids, patient):
    return episodes.open_episode(
        uow,
        clock,
        ids,
        episodes.EpisodeDetails(
            patient.id, "M51.36", "Disc degeneration", "L4-L5", Laterality.NOT_APPLICABLE
        ),
    )


def move(uow, clock, ids, episode, to, **extra):
    # Eligibility and consent are records, not moves: made the way the clinic makes them.
    if to is Stage.ELIGIBLE and episode.stage is Stage.IN_EVALUATION:
        return decide_eligible(uow, clock, ids, episode)
    if to is Stage.CONSENTED and episode.stage is Stage.ELIGIBLE:
        return plan_and_consent(uow, clock, ids, episode)
    return episodes.transition_episode(
        uow,
        clock,
        ids,
        episodes.TransitionCommand(episode.id, to, episode.version, **extra),
    ).episode


PHYSICIAN = StaffMember(UUID(int=0xD1), "dr.test", "Dr Test", {})


def decide_eligible(uow, clock, ids, episode):
    """The physician's path to eligible: the assessment, then the accepted verdict."""
    evaluation.record_assessment(uow, clock, ids, PHYSICIAN, episode.id, SPINE)
    signer = Signer(PHYSICIAN, "", hasher=None, policy=None)  # accepting signs nothing
    evaluation.decide_eligibility(
        uow,
        clock,
        ids,
        load_ruleset(),
        signer,
        evaluation.DecideEligibility(episode.id, episode.version),
    )
    return episodes.get_episode(uow, clock, episode.id)


PLAN = PlanDetails(
    source=CellSource.AUTOLOGOUS,
    product_type=ProductType.BMAC,
    targets=("L4-L5 disc",),
    sessions=1,
    guidance=Guidance.FLUOROSCOPY,
    same_surgical_procedure=False,
    processing=(ProcessingKind.CENTRIFUGATION,),
    price=Decimal("4800"),
    currency="USD",
    payment=Payment.SELF_PAY,
)


def plan_and_consent(uow, clock, ids, episode):
    """The physician's plan, then the patient's signature on its document."""
    consent.save_plan(uow, clock, ids, PHYSICIAN, episode.id, PLAN)
    view = consent.consent_view(uow, clock, episode.id)
    assert view.document is not None
    consent.sign_consent(
        uow,
        clock,
        ids,
        PHYSICIAN,
        consent.SignConsent(
            episode.id, episode.version, view.document.content_hash, "Avery Hale", True
        ),
    )
    return episodes.get_episode(uow, clock, episode.id)


def test_an_mrn_is_unique_within_its_clinic(uow, clock, ids) -> None:
    patient = register(uow, clock, ids)
    with pytest.raises(DuplicateValue) as error:
        patients.register_patient(
            uow,
            clock,
            ids,
            patients.PatientDetails(
                clinic_id=patient.clinic_id,
                mrn="RS-1",
                family_name="Other",
                given_name="Person",
                birth_date=date(1980, 1, 1),
                sex=AdministrativeSex.MALE,
            ),
        )
    assert error.value.field == "mrn"


def test_an_episode_for_an_unknown_patient_names_the_field(uow, clock, ids) -> None:
    with pytest.raises(InvalidReference) as error:
        episodes.open_episode(
            uow,
            clock,
            ids,
            episodes.EpisodeDetails(ids(), "M51.36", "x", "L4-L5", Laterality.NOT_APPLICABLE),
        )
    assert error.value.field == "patient_id"


def test_a_harvest_cannot_be_moved_to_without_its_record(uow, clock, ids) -> None:
    """The harvest record makes the product (services/lab.py); a bare move has none."""
    patient = register(uow, clock, ids)
    episode = open_for(uow, clock, ids, patient)
    for stage in (Stage.IN_EVALUATION, Stage.ELIGIBLE, Stage.CONSENTED):
        episode = move(uow, clock, ids, episode, stage)
    episode = move(uow, clock, ids, episode, Stage.PLANNED, cell_source=CellSource.AUTOLOGOUS)
    with pytest.raises(TransitionRefused) as refusal:
        move(uow, clock, ids, episode, Stage.HARVESTED)
    assert refusal.value.guard is Guard.PRODUCT_REQUIRED


def test_a_refused_transition_writes_nothing_but_its_audit_entry(uow, clock, ids) -> None:
    patient = register(uow, clock, ids)
    episode = open_for(uow, clock, ids, patient)
    timeline = list(uow.committed_store.timeline)
    with pytest.raises(TransitionRefused) as refusal:
        move(uow, clock, ids, episode, Stage.CONSENTED)
    assert refusal.value.guard is Guard.TRANSITION_NOT_ALLOWED
    assert uow.committed_store.episodes[episode.id] == episode
    assert uow.committed_store.timeline == timeline
    last = uow.committed_store.audit[-1].entry
    assert (last.action, last.outcome) == (AuditAction.TRANSITION, AuditOutcome.DENIED)
    assert "transition_not_allowed" in (last.detail or "")


def test_a_stale_version_is_refused_before_anything_is_decided(uow, clock, ids) -> None:
    patient = register(uow, clock, ids)
    episode = open_for(uow, clock, ids, patient)
    move(uow, clock, ids, episode, Stage.IN_EVALUATION)
    with pytest.raises(StaleVersion):
        move(uow, clock, ids, episode, Stage.ELIGIBLE)  # still holds version 1
