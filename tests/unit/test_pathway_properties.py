"""Property tests: whatever staff click, in whatever order, the pathway's promises hold."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from regenpath.domain.episodes import Episode
from regenpath.domain.errors import TransitionRefused
from regenpath.domain.pathway import TRANSITIONS, Stage
from regenpath.domain.products import (
    BedsideVerification,
    CellSource,
    DonorEligibility,
    Product,
    ProductStatus,
)
from tests.support import START, SequentialIds
from tests.unit.builders import (
    OTHER_PATIENT,
    PATIENT,
    donor_product,
    harvest_product,
    injected,
    lab_released,
    new_episode,
    passed_check,
    request_to,
)

PRODUCT_SCENARIOS = (
    "cycle_product",
    "no_product",
    "stranger_product",
    "donor_released",
    "donor_quarantined",
    "donor_incomplete",
    "donor_other_patient",
)
CHECK_SCENARIOS = ("passed", "none", "failed", "other_patient", "other_product")


def draw_command(data: st.DataObject, episode: Episode) -> tuple:
    """Mostly a move the table allows from here (so deep stages are reached), sometimes any."""
    onward = [t for t in episode.allowed_targets() if t is not Stage.WITHDRAWN]
    any_stage = st.sampled_from(list(Stage))
    target = data.draw(
        st.sampled_from(onward) if onward and data.draw(st.integers(0, 9)) < 9 else any_stage
    )
    donor = "donor_released" if target is Stage.PRODUCT_ALLOCATED else "cycle_product"
    return (
        target,
        mostly(data, donor, PRODUCT_SCENARIOS),
        mostly(data, "passed", CHECK_SCENARIOS),
        mostly(data, CellSource.AUTOLOGOUS, [None, CellSource.AUTOLOGOUS, CellSource.ALLOGENEIC]),
        mostly(data, "Patient request", [None, "", "Patient request"]),
        data.draw(st.integers(min_value=0, max_value=30)),  # hours before the command
    )


def mostly(data: st.DataObject, usual: object, anything: Sequence[object]) -> object:
    """The usual value seven times in ten, anything else otherwise: deep paths and odd ones."""
    if data.draw(st.integers(0, 9)) < 7:
        return usual
    return data.draw(st.sampled_from(list(anything)))


class World:
    """The episode plus the products and checks the commands can point at."""

    def __init__(self) -> None:
        self.ids = SequentialIds()
        self.episode: Episode = new_episode(self.ids)
        self.products: dict[object, Product] = {}
        self.now = START

    def product_for(self, target: Stage, scenario: str) -> Product | None:
        if target is Stage.HARVESTED:
            owner = OTHER_PATIENT if scenario == "donor_other_patient" else PATIENT
            return harvest_product(id=self.ids(), patient_id=owner, collected_at=self.now)
        cycle = self.episode.current_cycle
        if scenario == "cycle_product" and cycle is not None and cycle.product_id is not None:
            product = self.products[cycle.product_id]
            # The lab's work between the stages: finished processing, then a signed release.
            if target is Stage.PROCESSED and product.status is ProductStatus.IN_PROCESSING:
                product.finish_processing(self.now)
            elif target is Stage.RELEASED and product.status is ProductStatus.QUARANTINE:
                with contextlib.suppress(TransitionRefused):  # expired: the lab may not
                    product.release(self.now, [])
            return product
        if scenario == "no_product":
            return None
        if scenario == "stranger_product":
            return lab_released(harvest_product(id=self.ids(), collected_at=self.now), self.now)
        product = donor_product(self.ids, expires_at=self.now + timedelta(days=30))
        if scenario == "donor_quarantined":
            product.status = ProductStatus.QUARANTINE
        elif scenario == "donor_incomplete":
            product.donor_eligibility = DonorEligibility.INCOMPLETE
        elif scenario == "donor_other_patient":
            product.intended_patient_id = OTHER_PATIENT
        return product

    def check_for(self, product: Product | None, scenario: str) -> BedsideVerification | None:
        if product is None or scenario == "none":
            return None
        check = passed_check(product, at=self.now)
        if scenario == "failed":
            return replace(check, passed=False)
        if scenario == "other_patient":
            return replace(check, patient_id=OTHER_PATIENT)
        if scenario == "other_product":
            return replace(check, product_id=self.ids())
        return check


@settings(max_examples=300, deadline=None)
@given(st.data(), st.integers(min_value=0, max_value=40))
def test_no_episode_is_injected_without_consent_and_a_verified_product(data, length) -> None:
    world = World()
    for _ in range(length):
        target, product_scenario, check_scenario, source, reason, hours = draw_command(
            data, world.episode
        )
        world.now += timedelta(hours=hours)
        product = world.product_for(target, product_scenario)
        check = world.check_for(product, check_scenario)
        product_before = copy.deepcopy(product)
        episode_before = copy.deepcopy(world.episode)
        request = request_to(
            world.episode,
            target,
            reason=reason,
            cell_source=source,
            new_cycle_id=world.ids(),
            product=product,
            verification=check,
            injection=injected(world.episode, product) if product is not None else None,
        )
        try:
            world.episode.transition(request, world.now)
        except TransitionRefused:
            assert world.episode == episode_before, "a refusal changed the episode"
            assert product == product_before, "a refusal changed the product"
            continue
        # Every state reached is one the table allows, reached by a move the table allows.
        assert (episode_before.stage, target) in TRANSITIONS
        assert world.episode.stage is target
        if product is not None:
            world.products[product.id] = product
        if target is Stage.ADMINISTERED:
            assert product is not None and product_before is not None and check is not None
            assert world.episode.consented_at is not None
            assert product_before.status is ProductStatus.RELEASED
            assert product_before.donor_eligibility in (
                DonorEligibility.NOT_REQUIRED,
                DonorEligibility.ELIGIBLE,
            )
            assert world.now < product_before.expires_at
            assert product_before.intended_patient_id in (None, PATIENT)
            assert check.passed and check.patient_id == PATIENT and check.product_id == product.id
            assert world.episode.current_cycle is not None
            assert world.episode.current_cycle.product_id == product.id
            event("reached administered")
    for cycle in world.episode.cycles:
        if cycle.administered_at is not None:
            assert world.episode.consented_at is not None
            assert cycle.administered_at >= world.episode.consented_at


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list(Stage)), max_size=40))
def test_the_stage_only_ever_follows_the_table(targets) -> None:
    ids = SequentialIds()
    episode = new_episode(ids)
    for target in targets:
        source = episode.stage
        try:
            episode.transition(
                request_to(
                    episode,
                    target,
                    reason="because",
                    cell_source=CellSource.ALLOGENEIC,
                    new_cycle_id=ids(),
                ),
                START,
            )
        except TransitionRefused:
            assert episode.stage is source
        else:
            assert (source, target) in TRANSITIONS
