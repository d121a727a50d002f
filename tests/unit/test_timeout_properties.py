"""CON-1 and SITE-1 as properties: whatever the injection record says, a product is given only
when the record agrees with the consented plan and the episode's target and side, and the
procedure the patient consented to is never refused by them."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from regenpath.domain.episodes import Episode, TransitionRequest
from regenpath.domain.errors import TransitionRefused
from regenpath.domain.pathway import Stage
from regenpath.domain.procedures import (
    Approach,
    Guidance,
    InjectionSite,
    Laterality,
    Side,
    TimeOut,
    TimeOutItem,
)
from regenpath.domain.timeout import approaches_for, same_target, sides_for
from tests.support import START, SequentialIds
from tests.unit.builders import (
    CLINIC,
    PATIENT,
    autologous_cycle,
    injected,
    passed_check,
    plan_for,
    request_to,
)

TARGETS = {
    "M17.11": ("Right knee", "Left knee", "Knee", "L4-L5 disc", "Right ankle"),
    "M51.36": ("L4-L5 disc", "L5-S1 disc", "Right knee"),
}


def ready(ids: SequentialIds, code: str, target: str, side: Laterality) -> Episode:
    episode = Episode.open(
        id=ids(),
        clinic_id=CLINIC,
        patient_id=PATIENT,
        condition_code=code,
        condition_text="Synthetic condition",
        target_site=target,
        laterality=side,
        now=START,
    )
    for stage in (Stage.IN_EVALUATION, Stage.ELIGIBLE, Stage.CONSENTED):
        episode.transition(request_to(episode, stage), START)
    return episode


@given(st.data())
def test_CON_1_SITE_1_no_product_is_given_outside_the_consent_or_the_episodes_site(data) -> None:
    ids = SequentialIds()
    code = data.draw(st.sampled_from(sorted(TARGETS)))
    target = TARGETS[code][0]  # the episode is on the first; the rest are other targets
    laterality = data.draw(st.sampled_from(list(Laterality)))
    episode = ready(ids, code, target, laterality)
    plan = plan_for(
        episode,
        guidance=data.draw(st.sampled_from(list(Guidance))),
        sessions=data.draw(st.integers(1, 3)),
        targets=tuple(data.draw(st.lists(st.sampled_from(TARGETS[code]), min_size=1, max_size=2))),
    )
    product = autologous_cycle(episode, ids, plan)
    sites = data.draw(
        st.lists(
            st.builds(
                InjectionSite,
                st.sampled_from([*TARGETS[code], "right  KNEE", "l4-l5 DISC"]),
                st.sampled_from(list(Side)),
                st.just(1.0),
            ),
            min_size=1,
            max_size=2,
        )
    )
    confirmed = data.draw(st.frozensets(st.sampled_from(list(TimeOutItem))))
    injection = replace(
        injected(episode, product),
        guidance=data.draw(st.sampled_from(list(Guidance))),
        approach=data.draw(st.sampled_from(list(Approach))),
        sites=tuple(sites),
        time_out=TimeOut("Dr. Test", START, confirmed),
    )
    fits = (
        confirmed == frozenset(TimeOutItem)
        and injection.guidance is plan.guidance
        and injection.approach in approaches_for(target)
        and all(
            any(same_target(site.target, planned) for planned in plan.targets)
            and site.laterality in sides_for(laterality)
            and approaches_for(site.target) == approaches_for(target)
            for site in sites
        )
    )
    request = TransitionRequest(
        to=Stage.ADMINISTERED,
        product=product,
        verification=passed_check(product),
        injection=injection,
        plan=plan,
    )
    try:
        episode.transition(request, START)
    except TransitionRefused:
        assert not fits, "the consented procedure was refused"
        assert episode.stage is Stage.RELEASED
        return
    assert fits, "a product was given outside the consent or on the wrong site or side"
    assert episode.sessions_given <= plan.sessions
