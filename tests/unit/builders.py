"""Builders that walk real transitions, so a test's starting state is one the pathway allows."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from regenpath.domain.assessment import (
    Assessment,
    CareKind,
    CareResult,
    ConservativeCare,
    DiabetesControl,
    Imaging,
    ImagingModality,
    SmokingStatus,
    TargetRegion,
)
from regenpath.domain.consent import (
    ConsentDocument,
    Payment,
    SignedConsent,
    TreatmentPlan,
    consent_document,
)
from regenpath.domain.eligibility import Verdict
from regenpath.domain.episodes import Episode, TransitionRequest
from regenpath.domain.evaluation import DecisionKind, EligibilityRecord
from regenpath.domain.isbt128 import Din
from regenpath.domain.pathway import Stage
from regenpath.domain.patients import AdministrativeSex
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
    BedsideVerification,
    CellSource,
    DonorEligibility,
    Product,
    ProductStatus,
    ProductType,
    VerificationMethod,
)
from regenpath.domain.quality import ProcessingKind
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


def din_of(product_id: UUID) -> str:
    return Din("W9999", 26, product_id.int % 999_999 + 1).code


def harvest_product(
    *,
    id: UUID,
    clinic_id: UUID = CLINIC,
    patient_id: UUID = PATIENT,
    collected_at: datetime = START,
    max_hold: timedelta = HOLD,
) -> Product:
    """The product a harvest record makes (services/lab.py gives it its DIN)."""
    return Product.harvest(
        id=id,
        clinic_id=clinic_id,
        patient_id=patient_id,
        collected_at=collected_at,
        max_hold=max_hold,
        din=din_of(id),
        product_type=ProductType.BMAC,
        volume_ml=6.0,
    )


def lab_released(product: Product, at: datetime = START) -> Product:
    """What the lab does between harvest and release: processing, then a signed release."""
    product.finish_processing(at)
    product.release(at, [])
    return product


def injected(episode: Episode, product: Product, at: datetime = START) -> InjectionRecord:
    cycle = episode.current_cycle
    return InjectionRecord(
        id=UUID(int=0x1E),
        episode_id=episode.id,
        cycle_number=cycle.number if cycle is not None else 1,
        product_id=product.id,
        guidance=Guidance.FLUOROSCOPY,
        approach=Approach.POSTEROLATERAL_INTRADISCAL,
        sites=(InjectionSite("L4-L5 disc", Side.MIDLINE, 2.0, 150.0),),
        started_at=at,
        ended_at=at,
        operator="Dr. Test",
        image_references=("PACS-1",),
        time_out=TimeOut("Dr. Test", at, frozenset(TimeOutItem)),
    )


def donor_product(
    ids: SequentialIds,
    *,
    status: ProductStatus = ProductStatus.RELEASED,
    eligibility: DonorEligibility = DonorEligibility.ELIGIBLE,
    expires_at: datetime | None = None,
) -> Product:
    product_id = ids()
    return Product(
        id=product_id,
        clinic_id=CLINIC,
        source=CellSource.ALLOGENEIC,
        status=status,
        donor_eligibility=eligibility,
        collected_at=START - timedelta(days=30),
        expires_at=expires_at or START + timedelta(days=365),
        din=din_of(product_id),
        product_type=ProductType.UMBILICAL_CORD_MSC,
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


def eligible_decision(episode: Episode, final: Verdict = Verdict.ELIGIBLE) -> EligibilityRecord:
    """The physician's accepted verdict on the episode's assessment (services/evaluation.py)."""
    return EligibilityRecord(
        id=UUID(int=0xE1),
        clinic_id=episode.clinic_id,
        episode_id=episode.id,
        assessment_version=1,
        ruleset_version="test",
        kind=DecisionKind.ACCEPTED,
        computed=final,
        findings=(),
        decided_at=START,
        decided_by="Dr Test",
        final=final,
    )


def plan_for(episode: Episode, version: int = 1, **changes: Any) -> TreatmentPlan:
    """An autologous BMAC plan for the episode's target."""
    fields: dict[str, Any] = {
        "id": UUID(int=0xF1),
        "clinic_id": episode.clinic_id,
        "episode_id": episode.id,
        "version": version,
        "source": CellSource.AUTOLOGOUS,
        "product_type": ProductType.BMAC,
        "targets": (episode.target_site,),
        "sessions": 1,
        "guidance": Guidance.FLUOROSCOPY,
        "same_surgical_procedure": False,
        "processing": (ProcessingKind.CENTRIFUGATION, ProcessingKind.CONCENTRATION),
        "price": Decimal("4800.00"),
        "currency": "USD",
        "payment": Payment.SELF_PAY,
        "created_at": START,
        "created_by": "Dr Test",
    }
    return TreatmentPlan(**(fields | changes))


def donor_plan(episode: Episode, version: int = 1, **changes: Any) -> TreatmentPlan:
    """A plan for a cord MSC product from a donor, under an IND (REG-5)."""
    fields: dict[str, Any] = {
        "source": CellSource.ALLOGENEIC,
        "product_type": ProductType.UMBILICAL_CORD_MSC,
        "processing": (ProcessingKind.THAWING,),
        "ind_number": "IND 12345",
    }
    return plan_for(episode, version, **(fields | changes))


def consented_plan(episode: Episode, **changes: Any) -> TreatmentPlan:
    """The plan the episode's current cycle was consented under: a donor plan for an
    allogeneic cycle, else the autologous one."""
    cycle = episode.current_cycle
    if cycle is not None and cycle.cell_source is CellSource.ALLOGENEIC:
        return donor_plan(episode, **changes)
    return plan_for(episode, **changes)


def autologous_cycle(episode: Episode, ids: SequentialIds, plan: TreatmentPlan) -> Product:
    """A cycle planned under ``plan``, its harvest processed and released by the lab."""
    episode.transition(
        TransitionRequest(
            to=Stage.PLANNED, cell_source=CellSource.AUTOLOGOUS, new_cycle_id=ids(), plan=plan
        ),
        START,
    )
    product = harvest_product(id=ids())
    episode.transition(TransitionRequest(to=Stage.HARVESTED, product=product, plan=plan), START)
    lab_released(product)
    episode.transition(TransitionRequest(to=Stage.PROCESSED, product=product), START)
    episode.transition(TransitionRequest(to=Stage.RELEASED, product=product), START)
    return product


def signed_consent(
    episode: Episode, plan: TreatmentPlan | None = None
) -> tuple[SignedConsent, ConsentDocument]:
    """The patient's signature on the document of ``plan`` (the builder's plan by default)."""
    document = consent_document(plan or plan_for(episode), "Test Clinic")
    consent = SignedConsent(
        id=UUID(int=0xC0),
        clinic_id=episode.clinic_id,
        episode_id=episode.id,
        plan_id=(plan or plan_for(episode)).id,
        plan_version=document.plan_version,
        template_version=document.template_version,
        document_hash=document.content_hash,
        signed_name="Avery Hale",
        signed_at=START,
        witnessed_by="Dr Test",
    )
    return consent, document


def request_to(episode: Episode, stage: Stage, **fields: Any) -> TransitionRequest:
    """A request to ``stage``; eligibility comes with the physician's decision and consent
    with the patient's signature, as they must."""
    if stage is Stage.ELIGIBLE:
        fields.setdefault("eligibility", eligible_decision(episode))
    if stage is Stage.INELIGIBLE:
        fields.setdefault("eligibility", eligible_decision(episode, final=Verdict.INELIGIBLE))
    if stage is Stage.CONSENTED:
        consent, document = signed_consent(episode)
        fields.setdefault("consent", consent)
        fields.setdefault("consent_document", document)
    if stage in (Stage.PLANNED, Stage.HARVESTED, Stage.PRODUCT_ALLOCATED, Stage.ADMINISTERED):
        donor = fields.get("cell_source") is CellSource.ALLOGENEIC or (
            stage is not Stage.PLANNED
            and (product := fields.get("product")) is not None
            and product.source is CellSource.ALLOGENEIC
        )
        fields.setdefault("plan", donor_plan(episode) if donor else consented_plan(episode))
    return TransitionRequest(to=stage, **fields)


def consented_episode(ids: SequentialIds | None = None) -> Episode:
    episode = new_episode(ids)
    for stage in (Stage.IN_EVALUATION, Stage.ELIGIBLE, Stage.CONSENTED):
        episode.transition(request_to(episode, stage), START)
    return episode


def released_autologous(ids: SequentialIds) -> tuple[Episode, Product]:
    """An episode whose own harvest was processed and released, ready for the bedside check."""
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
    product = harvest_product(id=ids())
    episode.transition(
        TransitionRequest(to=Stage.HARVESTED, product=product, plan=plan_for(episode)), START
    )
    product.finish_processing(START)
    episode.transition(TransitionRequest(to=Stage.PROCESSED, product=product), START)
    product.release(START, [])
    episode.transition(TransitionRequest(to=Stage.RELEASED, product=product), START)
    return episode, product


# Nothing remarkable: every question answered, nothing found.
HISTORY: dict[str, Any] = {
    "active_infection": False,
    "active_malignancy": False,
    "immunosuppressants": False,
    "pregnant_or_breastfeeding": False,
    "steroid_injections": (),
    "intra_articular_injections": (),
    "severe_anaemia": False,
    "bleeding_disorder": False,
    "anticoagulants": False,
    "diabetes": DiabetesControl.NONE,
    "uncontrolled_hypertension": False,
    "serious_systemic_disease": False,
    "height_cm": 170.0,
    "weight_kg": 70.0,
    "osteoporosis": False,
    "prior_surgery_at_index": False,
    "prior_intradiscal_injection": False,
    "prior_cell_therapy": False,
    "substance_abuse": False,
    "severe_depression": False,
    "hiv_or_chronic_hepatitis": False,
    "septic_arthritis": (),
    "medications": (),
    "smoking": SmokingStatus.NEVER,
}
SPINE = Assessment(
    region=TargetRegion.SPINE,
    age_years=45,
    sex=AdministrativeSex.FEMALE,
    symptom_onset=date(2025, 1, 15),
    back_pain_nrs=6,
    leg_pain_nrs=2,
    odi=40,
    conservative_care=(ConservativeCare(CareKind.PHYSIOTHERAPY, 8, CareResult.NO_RELIEF),),
    imaging=Imaging(
        ImagingModality.MRI,
        date(2026, 1, 10),
        pfirrmann_grade=4,
        modic_type=1,
        disc_height_pct=70,
        levels_affected=1,
    ),
    facet_ruled_out=True,
    si_joint_ruled_out=True,
    spondylolisthesis_grade=0,
    **HISTORY,
)
KNEE = Assessment(
    region=TargetRegion.KNEE,
    age_years=55,
    sex=AdministrativeSex.MALE,
    pain_nrs=6,
    conservative_care=(ConservativeCare(CareKind.MEDICATION, 3, CareResult.PARTIAL_RELIEF),),
    imaging=Imaging(ImagingModality.XRAY, date(2026, 2, 1), kellgren_lawrence_grade=2),
    **HISTORY,
)
