"""The care pathway's transition table and guards (DESIGN.md section 2)."""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import replace
from datetime import timedelta

import pytest

from regenpath.domain import events as ev
from regenpath.domain.consent import TreatmentPlan
from regenpath.domain.eligibility import Verdict
from regenpath.domain.episodes import Episode, TransitionRequest
from regenpath.domain.errors import Guard, InvalidValue, TransitionRefused
from regenpath.domain.pathway import CLOSED_STAGES, OPEN_STAGES, TRANSITIONS, Stage
from regenpath.domain.procedures import (
    Approach,
    Guidance,
    InjectionRecord,
    InjectionSite,
    Laterality,
    Side,
    TimeOut,
    TimeOutItem,
)
from regenpath.domain.products import (
    CellSource,
    DonorEligibility,
    Product,
    ProductStatus,
    ProductType,
)
from tests.support import START, SequentialIds
from tests.unit.builders import (
    CLINIC,
    OTHER_PATIENT,
    PATIENT,
    autologous_cycle,
    consented_episode,
    consented_plan,
    donor_plan,
    donor_product,
    eligible_decision,
    harvest_product,
    injected,
    lab_released,
    new_episode,
    passed_check,
    plan_for,
    released_autologous,
    request_to,
)

# RCV-1: the tests move on to follow-up within the injection's day, as a clinician may with
# a reason; test_RCV_1_* checks the window itself.
SEEN_EARLY = "Reviewed in clinic on day 1: recovered, follow-up may start"


def refused_guards(episode: Episode, request: TransitionRequest, at=START) -> list[Guard]:
    before = copy.deepcopy(episode)
    with pytest.raises(TransitionRefused) as refusal:
        episode.transition(request, at)
    assert episode == before, "a refused transition must change nothing"
    return [f.guard for f in refusal.value.failures]


# -- the table ------------------------------------------------------------------------------


def test_every_stage_can_be_reached_from_referred() -> None:
    seen = {Stage.REFERRED}
    queue = deque([Stage.REFERRED])
    while queue:
        source = queue.popleft()
        for s, target in TRANSITIONS:
            if s is source and target not in seen:
                seen.add(target)
                queue.append(target)
    assert seen == set(Stage)


def test_closed_stages_have_no_way_out() -> None:
    assert not [key for key in TRANSITIONS if key[0] in CLOSED_STAGES]


@pytest.mark.parametrize("stage", OPEN_STAGES)
def test_every_open_stage_may_withdraw(stage: Stage) -> None:
    assert (stage, Stage.WITHDRAWN) in TRANSITIONS


def test_a_move_the_table_does_not_allow_is_refused_and_changes_nothing() -> None:
    episode = new_episode()
    assert refused_guards(episode, TransitionRequest(to=Stage.ADMINISTERED)) == [
        Guard.TRANSITION_NOT_ALLOWED
    ]


def test_opening_an_episode_checks_the_icd10cm_code() -> None:
    with pytest.raises(InvalidValue) as error:
        Episode.open(
            id=SequentialIds()(),
            clinic_id=CLINIC,
            patient_id=PATIENT,
            condition_code="back pain",
            condition_text="x",
            target_site="L4-L5",
            laterality="not_applicable",  # type: ignore[arg-type]
            now=START,
        )
    assert error.value.field == "condition_code"


# -- guards ---------------------------------------------------------------------------------


def test_consent_is_required_before_a_harvest_even_if_the_stage_were_forced() -> None:
    ids = SequentialIds()
    episode = consented_episode(ids)
    episode.transition(
        TransitionRequest(
            to=Stage.PLANNED,
            cell_source=CellSource.AUTOLOGOUS,
            new_cycle_id=ids(),
            plan=plan_for(episode),
        ),
        START,
    )
    episode.consented_at = None  # as if storage had been tampered with
    product = harvest_product(id=ids())
    assert Guard.CONSENT_REQUIRED in refused_guards(
        episode, TransitionRequest(to=Stage.HARVESTED, product=product, plan=plan_for(episode))
    )


def test_planning_a_cycle_needs_the_cell_source() -> None:
    ids = SequentialIds()
    episode = consented_episode(ids)
    assert refused_guards(
        episode, TransitionRequest(to=Stage.PLANNED, new_cycle_id=ids(), plan=plan_for(episode))
    ) == [Guard.CELL_SOURCE_REQUIRED]


def test_an_allogeneic_cycle_cannot_record_a_harvest() -> None:
    ids = SequentialIds()
    episode = consented_episode(ids)
    episode.transition(
        TransitionRequest(
            to=Stage.PLANNED,
            cell_source=CellSource.ALLOGENEIC,
            new_cycle_id=ids(),
            plan=donor_plan(episode),
        ),
        START,
    )
    product = harvest_product(id=ids())
    assert Guard.AUTOLOGOUS_CYCLE_ONLY in refused_guards(
        episode, TransitionRequest(to=Stage.HARVESTED, product=product, plan=plan_for(episode))
    )


def allogeneic_planned(ids: SequentialIds) -> Episode:
    episode = consented_episode(ids)
    episode.transition(
        TransitionRequest(
            to=Stage.PLANNED,
            cell_source=CellSource.ALLOGENEIC,
            new_cycle_id=ids(),
            plan=donor_plan(episode),
        ),
        START,
    )
    return episode


def test_DON_5_a_quarantined_donor_product_cannot_be_allocated() -> None:
    ids = SequentialIds()
    episode = allogeneic_planned(ids)
    product = donor_product(
        ids, status=ProductStatus.QUARANTINE, eligibility=DonorEligibility.INCOMPLETE
    )
    guards = refused_guards(
        episode,
        TransitionRequest(to=Stage.PRODUCT_ALLOCATED, product=product, plan=donor_plan(episode)),
    )
    assert Guard.PRODUCT_QUARANTINED in guards
    assert Guard.DONOR_ELIGIBILITY_INCOMPLETE in guards


def test_DON_7_an_ineligible_donors_product_is_blocked() -> None:
    ids = SequentialIds()
    episode = allogeneic_planned(ids)
    product = donor_product(ids, eligibility=DonorEligibility.INELIGIBLE)
    assert Guard.DONOR_INELIGIBLE in refused_guards(
        episode,
        TransitionRequest(to=Stage.PRODUCT_ALLOCATED, product=product, plan=donor_plan(episode)),
    )


def test_a_donor_product_allocated_to_another_patient_cannot_be_taken() -> None:
    ids = SequentialIds()
    episode = allogeneic_planned(ids)
    product = donor_product(ids)
    product.intended_patient_id = OTHER_PATIENT
    assert Guard.PRODUCT_FOR_OTHER_PATIENT in refused_guards(
        episode,
        TransitionRequest(to=Stage.PRODUCT_ALLOCATED, product=product, plan=donor_plan(episode)),
    )


def test_BED_1_no_injection_without_a_bedside_check() -> None:
    ids = SequentialIds()
    episode, product = released_autologous(ids)
    request = TransitionRequest(
        to=Stage.ADMINISTERED,
        product=product,
        injection=injected(episode, product),
        plan=consented_plan(episode),
    )
    assert refused_guards(episode, request) == [Guard.BEDSIDE_VERIFICATION_REQUIRED]


def test_BED_1_a_failed_bedside_check_is_a_hard_stop() -> None:
    ids = SequentialIds()
    episode, product = released_autologous(ids)
    failed = passed_check(product)
    failed = type(failed)(**{**failed.__dict__, "passed": False})
    assert refused_guards(
        episode,
        TransitionRequest(
            to=Stage.ADMINISTERED,
            product=product,
            verification=failed,
            injection=injected(episode, product),
            plan=consented_plan(episode),
        ),
    ) == [Guard.BEDSIDE_VERIFICATION_FAILED]


def test_BED_1_a_check_done_for_another_patient_does_not_count() -> None:
    ids = SequentialIds()
    episode, product = released_autologous(ids)
    assert Guard.BEDSIDE_VERIFICATION_FAILED in refused_guards(
        episode,
        TransitionRequest(
            to=Stage.ADMINISTERED,
            product=product,
            verification=passed_check(product, patient=OTHER_PATIENT),
            injection=injected(episode, product),
            plan=consented_plan(episode),
        ),
    )


def test_EXP_1_a_product_is_refused_from_the_minute_it_expires() -> None:
    ids = SequentialIds()
    episode, product = released_autologous(ids)
    request = TransitionRequest(
        to=Stage.ADMINISTERED,
        product=product,
        verification=passed_check(product),
        injection=injected(episode, product),
        plan=consented_plan(episode),
    )
    assert Guard.PRODUCT_EXPIRED in refused_guards(episode, request, at=product.expires_at)
    events = episode.transition(request, product.expires_at - timedelta(seconds=1))
    assert [e.name for e in events] == ["ProductAdministered"]


def test_the_injection_must_use_this_cycles_product() -> None:
    ids = SequentialIds()
    episode, _ = released_autologous(ids)
    stranger = harvest_product(id=ids())
    lab_released(stranger)
    assert refused_guards(
        episode,
        TransitionRequest(
            to=Stage.ADMINISTERED,
            product=stranger,
            verification=passed_check(stranger),
            injection=injected(episode, stranger),
            plan=consented_plan(episode),
        ),
    ) == [Guard.PRODUCT_NOT_IN_THIS_CYCLE]


def test_withdrawing_needs_a_reason_and_ineligible_needs_the_physicians_decision() -> None:
    episode = new_episode()
    episode.transition(TransitionRequest(to=Stage.IN_EVALUATION), START)
    assert refused_guards(episode, TransitionRequest(to=Stage.WITHDRAWN, reason="  ")) == [
        Guard.REASON_REQUIRED
    ]
    assert refused_guards(episode, TransitionRequest(to=Stage.INELIGIBLE, reason="a reason")) == [
        Guard.ELIGIBILITY_DECISION_REQUIRED
    ]


# -- whole paths ----------------------------------------------------------------------------


def test_an_autologous_cycle_from_consent_to_follow_up_emits_its_events_in_order() -> None:
    ids = SequentialIds()
    episode, product = released_autologous(ids)
    names = [
        e.name
        for request in (
            TransitionRequest(
                to=Stage.ADMINISTERED,
                product=product,
                verification=passed_check(product),
                injection=injected(episode, product),
                plan=consented_plan(episode),
            ),
            TransitionRequest(to=Stage.RECOVERY),
            TransitionRequest(to=Stage.FOLLOW_UP, reason=SEEN_EARLY),
            TransitionRequest(to=Stage.COMPLETED, signed=True),
        )
        for e in episode.transition(request, START + timedelta(hours=1))
    ]
    assert names == [
        "ProductAdministered",
        "RecoveryStarted",
        "FollowUpStarted",
        "EpisodeCompleted",
    ]
    assert product.status is ProductStatus.ADMINISTERED
    assert episode.closed_at is not None
    assert episode.cycles[0].stage is Stage.RECOVERY


def test_an_allogeneic_cycle_allocates_the_product_to_the_patient() -> None:
    ids = SequentialIds()
    episode = allogeneic_planned(ids)
    product = donor_product(ids)
    events = episode.transition(
        TransitionRequest(to=Stage.PRODUCT_ALLOCATED, product=product, plan=donor_plan(episode)),
        START,
    )
    assert isinstance(events[0], ev.ProductAllocated)
    assert product.intended_patient_id == PATIENT
    episode.transition(
        TransitionRequest(
            to=Stage.ADMINISTERED,
            product=product,
            verification=passed_check(product),
            injection=injected(episode, product),
            plan=consented_plan(episode),
        ),
        START,
    )
    assert episode.stage is Stage.ADMINISTERED


def in_recovery(ids: SequentialIds) -> Episode:
    """One autologous session given under a one-session consent, at START, now recovering."""
    episode, product = released_autologous(ids)
    episode.transition(
        TransitionRequest(
            to=Stage.ADMINISTERED,
            product=product,
            verification=passed_check(product),
            injection=injected(episode, product),
            plan=consented_plan(episode),
        ),
        START,
    )
    episode.transition(TransitionRequest(to=Stage.RECOVERY), START)
    return episode


def given_once(ids: SequentialIds) -> Episode:
    """One autologous session given under a one-session consent, now in follow-up."""
    episode = in_recovery(ids)
    episode.transition(TransitionRequest(to=Stage.FOLLOW_UP, reason=SEEN_EARLY), START)
    return episode


def test_a_repeat_treatment_opens_cycle_two_in_the_same_episode() -> None:
    ids = SequentialIds()
    episode = given_once(ids)
    events = episode.transition(
        TransitionRequest(
            to=Stage.PLANNED,
            cell_source=CellSource.AUTOLOGOUS,
            new_cycle_id=ids(),
            plan=plan_for(episode, sessions=2),  # the consent covers two sessions
        ),
        START,
    )
    assert events[0] == ev.TreatmentCyclePlanned(episode.id, START, 2, "autologous")
    assert [c.number for c in episode.cycles] == [1, 2]


def test_CON_1_a_session_beyond_the_consent_is_refused_at_the_cycle_plan() -> None:
    ids = SequentialIds()
    episode = given_once(ids)
    for source in CellSource:
        guards = refused_guards(
            episode,
            TransitionRequest(
                to=Stage.PLANNED, cell_source=source, new_cycle_id=ids(), plan=plan_for(episode)
            ),
        )
        assert Guard.CONSENT_SCOPE_SESSIONS in guards
    # Another cell source than the consented one, even with sessions left.
    assert refused_guards(
        episode,
        TransitionRequest(
            to=Stage.PLANNED,
            cell_source=CellSource.ALLOGENEIC,
            new_cycle_id=ids(),
            plan=plan_for(episode, sessions=2),
        ),
    ) == [Guard.CONSENT_SCOPE_CELL_SOURCE]


def test_CON_1_without_a_consented_plan_no_cycle_is_planned() -> None:
    ids = SequentialIds()
    episode = consented_episode(ids)
    assert refused_guards(
        episode,
        TransitionRequest(to=Stage.PLANNED, cell_source=CellSource.AUTOLOGOUS, new_cycle_id=ids()),
    ) == [Guard.CONSENTED_PLAN_REQUIRED]


def test_CON_1_a_donor_product_of_another_type_than_consented_is_not_allocated() -> None:
    ids = SequentialIds()
    episode = allogeneic_planned(ids)
    product = donor_product(ids)
    other = donor_plan(episode, product_type=ProductType.CORD_BLOOD)
    assert Guard.CONSENT_SCOPE_PRODUCT in refused_guards(
        episode, TransitionRequest(to=Stage.PRODUCT_ALLOCATED, product=product, plan=other)
    )


def knee_episode(ids: SequentialIds, side: Laterality = Laterality.RIGHT) -> Episode:
    return Episode.open(
        id=ids(),
        clinic_id=CLINIC,
        patient_id=PATIENT,
        condition_code="M17.11",
        condition_text="Primary osteoarthritis, right knee",
        target_site="Right knee",
        laterality=side,
        now=START,
    )


def knee_ready(ids: SequentialIds) -> tuple[Episode, Product, TreatmentPlan]:
    """A right-knee episode, consented to one autologous BMAC session under ultrasound, its
    product released and checked at the bedside."""
    episode = knee_episode(ids)
    for stage in (Stage.IN_EVALUATION, Stage.ELIGIBLE, Stage.CONSENTED):
        episode.transition(request_to(episode, stage), START)
    plan = plan_for(episode, guidance=Guidance.ULTRASOUND)
    return episode, autologous_cycle(episode, ids, plan), plan


def knee_injection(episode: Episode, product: Product, **changes: object) -> InjectionRecord:
    right_knee = replace(
        injected(episode, product),
        guidance=Guidance.ULTRASOUND,
        approach=Approach.KNEE_SUPEROLATERAL,
        sites=(InjectionSite("Right knee", Side.RIGHT, 4.0, 200.0),),
    )
    return replace(right_knee, **changes)


def administer(episode: Episode, product: Product, plan: TreatmentPlan, injection):  # type: ignore[no-untyped-def]
    return TransitionRequest(
        to=Stage.ADMINISTERED,
        product=product,
        verification=passed_check(product),
        injection=injection,
        plan=plan,
    )


def test_SITE_1_the_right_knee_as_consented_is_injected() -> None:
    ids = SequentialIds()
    episode, product, plan = knee_ready(ids)
    episode.transition(administer(episode, product, plan, knee_injection(episode, product)), START)
    assert episode.stage is Stage.ADMINISTERED


def test_SITE_1_the_spine_on_the_left_under_fluoroscopy_is_a_hard_stop_naming_each_mismatch() -> (
    None
):
    """The issue's scenario at the injection: a right-knee consent, a record of
    "fluoroscopy, posterolateral intradiscal, L4-L5 disc (left)"."""
    ids = SequentialIds()
    episode, product, plan = knee_ready(ids)
    wrong = knee_injection(
        episode,
        product,
        guidance=Guidance.FLUOROSCOPY,
        approach=Approach.POSTEROLATERAL_INTRADISCAL,
        sites=(InjectionSite("L4-L5 disc", Side.LEFT, 2.0, 100.0),),
    )
    guards = refused_guards(episode, administer(episode, product, plan, wrong))
    assert guards == [
        Guard.WRONG_SITE,
        Guard.WRONG_SIDE,
        Guard.WRONG_APPROACH,
        Guard.WRONG_GUIDANCE,
    ]


@pytest.mark.parametrize(
    ("changes", "guard"),
    [
        ({"sites": (InjectionSite("Right ankle", Side.RIGHT, 4.0, None),)}, Guard.WRONG_SITE),
        ({"sites": (InjectionSite("right  KNEE", Side.LEFT, 4.0, None),)}, Guard.WRONG_SIDE),
        ({"sites": (InjectionSite("Right knee", Side.MIDLINE, 4.0, None),)}, Guard.WRONG_SIDE),
        ({"approach": Approach.INTRA_ARTICULAR_OTHER}, Guard.WRONG_APPROACH),
        ({"guidance": Guidance.LANDMARK}, Guard.WRONG_GUIDANCE),
        ({"time_out": None}, Guard.TIME_OUT_INCOMPLETE),
        (
            {"time_out": TimeOut("Dr. Test", START, frozenset({TimeOutItem.PATIENT}))},
            Guard.TIME_OUT_INCOMPLETE,
        ),
    ],
)
def test_SITE_1_each_mismatch_alone_is_refused(changes, guard) -> None:  # type: ignore[no-untyped-def]
    ids = SequentialIds()
    episode, product, plan = knee_ready(ids)
    injection = knee_injection(episode, product, **changes)
    assert refused_guards(episode, administer(episode, product, plan, injection)) == [guard]


def test_SITE_1_CON_1_a_second_session_the_consent_does_not_cover_is_refused_at_the_needle() -> (
    None
):
    """Even if a cycle had been planned around the guard, the injection checks the sessions."""
    ids = SequentialIds()
    episode, product, plan = knee_ready(ids)
    episode.transition(administer(episode, product, plan, knee_injection(episode, product)), START)
    episode.transition(TransitionRequest(to=Stage.RECOVERY), START)
    episode.transition(TransitionRequest(to=Stage.FOLLOW_UP, reason=SEEN_EARLY), START)
    second = autologous_cycle(episode, ids, replace(plan, sessions=2))
    guards = refused_guards(
        episode, administer(episode, second, plan, knee_injection(episode, second))
    )
    assert guards == [Guard.CONSENT_SCOPE_SESSIONS]


def test_lost_to_follow_up_is_reversible_when_the_patient_returns() -> None:
    ids = SequentialIds()
    episode, product = released_autologous(ids)
    for request in (
        TransitionRequest(
            to=Stage.ADMINISTERED,
            product=product,
            verification=passed_check(product),
            injection=injected(episode, product),
            plan=consented_plan(episode),
        ),
        TransitionRequest(to=Stage.RECOVERY),
        TransitionRequest(to=Stage.FOLLOW_UP, reason=SEEN_EARLY),
        TransitionRequest(to=Stage.LOST_TO_FOLLOW_UP),
    ):
        episode.transition(request, START)
    events = episode.transition(TransitionRequest(to=Stage.FOLLOW_UP), START)
    assert [e.name for e in events] == ["PatientReturnedToFollowUp"]
    assert episode.closed_at is None


def test_withdrawal_records_the_stage_it_left_and_the_reason() -> None:
    episode = consented_episode()
    events = episode.transition(TransitionRequest(to=Stage.WITHDRAWN, reason=" Moved away "), START)
    assert events == [ev.EpisodeWithdrawn(episode.id, START, "consented", "Moved away")]
    assert episode.is_closed
    assert episode.allowed_targets() == []


def test_events_serialise_to_json_ready_dicts() -> None:
    ids = SequentialIds()
    episode, product = released_autologous(ids)
    event = ev.ProductReleased(episode.id, START, 1, product.id, product.expires_at)
    assert event.as_dict() == {
        "type": "ProductReleased",
        "episode_id": str(episode.id),
        "occurred_at": START.isoformat(),
        "cycle_number": 1,
        "product_id": str(product.id),
        "expires_at": product.expires_at.isoformat(),
    }


def test_eligible_only_through_the_physicians_decision_on_this_episode() -> None:
    episode = new_episode()
    episode.transition(TransitionRequest(to=Stage.IN_EVALUATION), START)
    assert refused_guards(episode, TransitionRequest(to=Stage.ELIGIBLE)) == [
        Guard.ELIGIBILITY_DECISION_REQUIRED
    ]
    other = new_episode(SequentialIds(5000))
    assert refused_guards(
        episode, TransitionRequest(to=Stage.ELIGIBLE, eligibility=eligible_decision(other))
    ) == [Guard.ELIGIBILITY_DECISION_REQUIRED]
    declined = eligible_decision(episode, final=Verdict.INELIGIBLE)
    assert refused_guards(episode, TransitionRequest(to=Stage.ELIGIBLE, eligibility=declined)) == [
        Guard.ELIGIBILITY_DECISION_REQUIRED
    ]
    episode.transition(TransitionRequest(to=Stage.INELIGIBLE, eligibility=declined), START)
    assert episode.stage is Stage.INELIGIBLE  # the decision is the reason


def test_RCV_1_follow_up_starts_after_the_recovery_window_or_with_a_reason() -> None:
    episode = in_recovery(SequentialIds())
    almost = START + timedelta(days=14) - timedelta(minutes=1)
    for reason in (None, "  "):
        assert refused_guards(
            episode, TransitionRequest(to=Stage.FOLLOW_UP, reason=reason), at=almost
        ) == [Guard.RECOVERY_NOT_OVER]
    on_time = copy.deepcopy(episode)
    on_time.transition(TransitionRequest(to=Stage.FOLLOW_UP), START + timedelta(days=14))
    assert on_time.stage is Stage.FOLLOW_UP
    episode.transition(TransitionRequest(to=Stage.FOLLOW_UP, reason=SEEN_EARLY), almost)
    assert episode.stage is Stage.FOLLOW_UP
