"""Builders that walk real transitions, so a test's starting state is one the pathway allows."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from regenpath.domain.episodes import Episode, Laterality, TransitionRequest
from regenpath.domain.pathway import Stage
from regenpath.domain.products import (
    BedsideVerification,
    CellSource,
    DonorEligibility,
    Product,
    ProductStatus,
    VerificationMethod,
)
from tests.support import START, SequentialIds

CLINIC = UUID(int=0xC1)
PATIENT = UUID(int=0xA1)
OTHER_PATIENT = UUID(int=0xA2)
HOLD = timedelta(hours=48)


def new_episode(ids: SequentialIds | None = None) -> Episode:
    ids = ids or SequentialIds(1000)
    return Episode.open(
        id=ids(),
        clinic_id=CLINIC,
        patient_id=PATIENT,
        condition_code="M51.36",
        condition_text="Lumbar disc degeneration",
        target_site="L4-L5 disc",
        laterality=Laterality.NOT_APPLICABLE,
        now=START,
    )


def donor_product(
    ids: SequentialIds,
    *,
    status: ProductStatus = ProductStatus.RELEASED,
    eligibility: DonorEligibility = DonorEligibility.ELIGIBLE,
    expires_at: datetime | None = None,
) -> Product:
    return Product(
        id=ids(),
        clinic_id=CLINIC,
        source=CellSource.ALLOGENEIC,
        status=status,
        donor_eligibility=eligibility,
        collected_at=START - timedelta(days=30),
        expires_at=expires_at or START + timedelta(days=365),
    )


def passed_check(
    product: Product, patient: UUID = PATIENT, at: datetime = START
) -> BedsideVerification:
    return BedsideVerification(
        id=UUID(int=0xBED),
        product_id=product.id,
        patient_id=patient,
        method=VerificationMethod.BARCODE_SCAN,
        passed=True,
        verified_at=at,
        verified_by="Nurse Test",
    )


def consented_episode(ids: SequentialIds | None = None) -> Episode:
    episode = new_episode(ids)
    for stage in (Stage.IN_EVALUATION, Stage.ELIGIBLE, Stage.CONSENTED):
        episode.transition(TransitionRequest(to=stage), START)
    return episode


def released_autologous(ids: SequentialIds) -> tuple[Episode, Product]:
    """An episode whose own harvest was processed and released, ready for the bedside check."""
    episode = consented_episode(ids)
    episode.transition(
        TransitionRequest(to=Stage.PLANNED, cell_source=CellSource.AUTOLOGOUS, new_cycle_id=ids()),
        START,
    )
    product = Product.harvest(
        id=ids(), clinic_id=CLINIC, patient_id=PATIENT, collected_at=START, max_hold=HOLD
    )
    episode.transition(TransitionRequest(to=Stage.HARVESTED, product=product), START)
    episode.transition(TransitionRequest(to=Stage.PROCESSED, product=product), START)
    episode.transition(TransitionRequest(to=Stage.RELEASED, product=product), START)
    return episode, product
