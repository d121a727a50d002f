"""The treatment plan and the consent generated from it: what the document says, what a
signature binds to, and what a plan change or a withdrawal does to it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from regenpath.domain.consent import RISKS, consent_blockers, consent_document
from regenpath.domain.episodes import TransitionRequest
from regenpath.domain.errors import Guard, InvalidValue, TransitionRefused
from regenpath.domain.pathway import Stage
from regenpath.domain.products import CellSource, ProductType
from regenpath.domain.quality import ProcessingKind
from regenpath.domain.regulatory import RegulatoryPathway
from regenpath.services import consent, episodes
from tests.support import SequentialIds, TestClock
from tests.unit.builders import consented_episode, new_episode, plan_for, request_to, signed_consent
from tests.unit.fakes import FakeUnitOfWork
from tests.unit.test_services import PHYSICIAN, PLAN, decide_eligible, open_for, register


def test_the_document_says_what_the_issue_asks_and_its_hash_follows_the_plan() -> None:
    episode = new_episode()
    plan = plan_for(episode)
    document = consent_document(plan, "Riverside")
    titles = [title for title, _ in document.sections]
    assert titles == [
        "What will be done",
        "The cells",
        "Regulatory status",
        "Risks",
        "The evidence",
        "Alternatives",
        "Cost",
        "Your right to withdraw",
    ]
    text = " ".join(body for _, body in document.sections)
    assert all(risk in text for risk in RISKS)
    assert "1-2 hours" in text and "15-30 minutes" in text and "two weeks" in text
    assert "4,800.00 USD" in text and "still evolving" in text
    assert RegulatoryPathway.HCTP_361.label in text  # shipped BMAC: REG-3
    changed = consent_document(replace(plan, version=2, sessions=2), "Riverside")
    assert changed.content_hash != document.content_hash


def test_REG_5_a_351_plan_is_not_consented_without_an_ind_or_bla() -> None:
    episode = new_episode()
    cord = plan_for(
        episode,
        source=CellSource.ALLOGENEIC,
        product_type=ProductType.UMBILICAL_CORD_MSC,
        processing=(ProcessingKind.THAWING,),
    )
    assert [f.guard for f in consent_blockers(cord)] == [Guard.IND_OR_BLA_REQUIRED]
    with_ind = replace(cord, ind_number="IND 012345")
    assert consent_blockers(with_ind) == []
    assert "IND 012345" in consent_document(with_ind, "Riverside").sections[2][1]


def test_COST_2_care_abroad_names_the_clinician_at_home() -> None:
    with pytest.raises(InvalidValue) as refused:
        plan_for(new_episode(), treatment_country="MX", abroad=True)
    assert refused.value.field == "home_clinician"


def test_consented_only_with_the_signature_on_the_current_document() -> None:
    episode = new_episode()
    for stage in (Stage.IN_EVALUATION, Stage.ELIGIBLE):
        episode.transition(request_to(episode, stage), episode.opened_at)
    with pytest.raises(TransitionRefused) as unsigned:
        episode.transition(TransitionRequest(to=Stage.CONSENTED), episode.opened_at)
    assert unsigned.value.guard is Guard.SIGNED_CONSENT_REQUIRED
    signed, _ = signed_consent(episode)
    newer = consent_document(plan_for(episode, version=2, sessions=3), "Test Clinic")
    with pytest.raises(TransitionRefused):
        episode.transition(
            TransitionRequest(to=Stage.CONSENTED, consent=signed, consent_document=newer),
            episode.opened_at,
        )
    assert consented_episode().consented_at is not None


@pytest.fixture
def world():
    uow, clock, ids = FakeUnitOfWork(), TestClock(), SequentialIds()
    patient = register(uow, clock, ids)
    episode = open_for(uow, clock, ids, patient)
    episode = episodes.transition_episode(
        uow, clock, ids, episodes.TransitionCommand(episode.id, Stage.IN_EVALUATION, 1)
    ).episode
    episode = decide_eligible(uow, clock, ids, episode)
    return uow, clock, ids, episode


def sign(uow, clock, ids, episode, name="Avery Hale", document_hash=None, agreed=True):
    view = consent.consent_view(uow, clock, episode.id)
    assert view.document is not None
    return consent.sign_consent(
        uow,
        clock,
        ids,
        PHYSICIAN,
        consent.SignConsent(
            episode.id,
            episodes.get_episode(uow, clock, episode.id).version,
            document_hash or view.document.content_hash,
            name,
            agreed,
        ),
    )


def test_a_plan_change_voids_the_consent_until_the_patient_signs_again(world) -> None:
    uow, clock, ids, episode = world
    consent.save_plan(uow, clock, ids, PHYSICIAN, episode.id, PLAN)
    sign(uow, clock, ids, episode)
    episode = episodes.get_episode(uow, clock, episode.id)
    assert episode.stage is Stage.CONSENTED and episode.consented_at is not None

    consent.save_plan(uow, clock, ids, PHYSICIAN, episode.id, replace(PLAN, sessions=2))
    episode = episodes.get_episode(uow, clock, episode.id)
    assert episode.stage is Stage.CONSENTED and episode.consented_at is None
    assert consent.consent_view(uow, clock, episode.id).current is None
    assert "Consent no longer matches" in (
        episodes.episode_timeline(uow, clock, episode.id)[-1].reason or ""
    )

    clock.advance(minutes=5)
    again = sign(uow, clock, ids, episode)
    assert again.plan_version == 2
    assert episodes.get_episode(uow, clock, episode.id).consented_at is not None


def test_a_signature_must_be_on_the_document_read_by_the_patient_named(world) -> None:
    uow, clock, ids, episode = world
    consent.save_plan(uow, clock, ids, PHYSICIAN, episode.id, PLAN)
    with pytest.raises(TransitionRefused) as stale:
        sign(uow, clock, ids, episode, document_hash="0" * 64)
    assert stale.value.guard is Guard.CONSENT_DOCUMENT_CHANGED
    with pytest.raises(InvalidValue) as other:
        sign(uow, clock, ids, episode, name="Someone Else")
    assert other.value.field == "signed_name"
    with pytest.raises(InvalidValue) as unread:
        sign(uow, clock, ids, episode, agreed=False)
    assert unread.value.field == "agreed"
    assert episodes.get_episode(uow, clock, episode.id).stage is Stage.ELIGIBLE


def test_a_withdrawal_is_recorded_and_stops_the_treatment(world) -> None:
    uow, clock, ids, episode = world
    consent.save_plan(uow, clock, ids, PHYSICIAN, episode.id, PLAN)
    signed = sign(uow, clock, ids, episode)
    withdrawn = consent.withdraw_consent(
        uow, clock, PHYSICIAN, episode.id, signed.id, "Wants to think about it"
    )
    assert withdrawn.withdrawn_at is not None
    assert episodes.get_episode(uow, clock, episode.id).consented_at is None
