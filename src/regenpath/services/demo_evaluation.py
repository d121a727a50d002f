"""The demo's evaluations: synthetic assessments, the ruleset's verdicts on them, and the
physician's decisions of every kind (accepted eligible, accepted ineligible on a HARD or SOFT
finding, SOFT findings overridden under signature, assessments still waiting for data)."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from regenpath.domain.access import LockoutPolicy, StaffMember
from regenpath.domain.assessment import (
    ActivityLevel,
    Assessment,
    CareKind,
    CareResult,
    ConservativeCare,
    DiabetesControl,
    Imaging,
    ImagingModality,
    SmokingStatus,
    TargetRegion,
    region_of,
)
from regenpath.domain.consent import Payment, PlanDetails
from regenpath.domain.eligibility import Ruleset, Verdict
from regenpath.domain.eligibility import evaluate as evaluate_rules
from regenpath.domain.episodes import Episode
from regenpath.domain.patients import AdministrativeSex, Patient
from regenpath.domain.procedures import Guidance
from regenpath.domain.products import CellSource, ProductType
from regenpath.domain.quality import ProcessingKind
from regenpath.services import consent, episodes, evaluation
from regenpath.services.demo_products import MovableClock
from regenpath.services.ports import IdFactory, PasswordHasher, UnitOfWork
from regenpath.services.signatures import Signer

IBUPROFEN = "5640"  # RxNorm: an NSAID the EX-10 task picks up
AMLODIPINE = "17767"


def unremarkable(rng: random.Random, patient: Patient, episode: Episode, today: date) -> Assessment:
    """A complete assessment a clinic would call a typical candidate."""
    region = region_of(episode.target_site)
    height = rng.uniform(155, 190)
    spine = region is TargetRegion.SPINE
    back = rng.randint(5, 8)
    return Assessment(
        region=region,
        condition_code=episode.condition_code,
        age_years=patient.age_on(today),
        sex=patient.sex,
        symptom_onset=today - timedelta(days=rng.randint(240, 1500)),
        back_pain_nrs=back if spine else None,
        leg_pain_nrs=rng.randint(0, back // 2) if spine else None,
        pain_nrs=None if spine else rng.randint(5, 8),
        odi=rng.randint(32, 60) if spine else None,
        conservative_care=(
            ConservativeCare(
                CareKind.PHYSIOTHERAPY,
                round(rng.uniform(6, 24), 1),
                rng.choice([CareResult.NO_RELIEF, CareResult.PARTIAL_RELIEF]),
            ),
            ConservativeCare(
                CareKind.MEDICATION, round(rng.uniform(3, 36), 1), CareResult.NO_RELIEF
            ),
        ),
        imaging=Imaging(
            ImagingModality.MRI if spine else ImagingModality.XRAY,
            today - timedelta(days=rng.randint(10, 120)),
            pfirrmann_grade=rng.randint(3, 6) if spine else None,
            modic_type=rng.randint(0, 2) if spine else None,
            disc_height_pct=rng.randint(55, 85) if spine else None,
            levels_affected=1 if spine else None,
            kellgren_lawrence_grade=rng.randint(2, 3) if region is TargetRegion.KNEE else None,
        ),
        facet_ruled_out=True if spine else None,
        si_joint_ruled_out=True if spine else None,
        spondylolisthesis_grade=rng.randint(0, 1) if spine else None,
        active_infection=False,
        active_malignancy=False,
        immunosuppressants=False,
        pregnant_or_breastfeeding=False if patient.sex is not AdministrativeSex.MALE else None,
        steroid_injections=(),
        intra_articular_injections=(),
        severe_anaemia=False,
        bleeding_disorder=False,
        anticoagulants=False,
        diabetes=rng.choice([DiabetesControl.NONE] * 4 + [DiabetesControl.CONTROLLED]),
        uncontrolled_hypertension=False,
        serious_systemic_disease=False,
        height_cm=round(height),
        weight_kg=round(rng.uniform(20, 29) * (height / 100) ** 2),
        osteoporosis=False,
        prior_surgery_at_index=False,
        prior_intradiscal_injection=False,
        prior_cell_therapy=False,
        substance_abuse=False,
        severe_depression=False,
        hiv_or_chronic_hepatitis=False,
        septic_arthritis=(),
        medications=(IBUPROFEN, AMLODIPINE) if rng.random() < 0.3 else (AMLODIPINE,),
        smoking=rng.choice(
            [SmokingStatus.NEVER] * 3 + [SmokingStatus.FORMER, SmokingStatus.CURRENT]
        ),
        # From the age, not the random stream, so the demo's other draws stay as they were.
        activity=ActivityLevel.MODERATE if patient.age_on(today) < 60 else ActivityLevel.LIGHT,
    )


def with_a_finding(rng: random.Random, base: Assessment, today: date) -> Assessment:
    """The same patient with one reason not to treat, HARD or SOFT, as clinics meet them."""
    options: list[dict[str, Any]] = [
        {"cancer_treatment_ended_on": today - timedelta(days=rng.randint(200, 1500))},  # EX-2
        {"steroid_injections": (today - timedelta(days=rng.randint(10, 80)),)},  # EX-4
        {"anticoagulants": True},  # EX-5
        {"diabetes": DiabetesControl.UNCONTROLLED},  # EX-6
        {"active_infection": True},  # EX-1
    ]
    if base.region is TargetRegion.SPINE:
        options.append({"facet_ruled_out": False})  # EL-7
    if base.sex is AdministrativeSex.FEMALE and (base.age_years or 99) < 45:
        options.append({"pregnant_or_breastfeeding": True})  # EX-3
    return replace(base, **rng.choice(options))


def incomplete(base: Assessment) -> Assessment:
    """Started, not finished: the imaging is not back and the medication list not taken."""
    return replace(base, imaging=None, medications=None)


def demo_plan(rng: random.Random, episode: Episode, source: CellSource) -> PlanDetails:
    """A plan as clinics quote them: point-of-care BMAC or a cord product under an IND, a
    self-pay price around the published mean (COST-1), now and then care abroad (COST-2)."""
    abroad = rng.random() < 0.1
    allogeneic = source is CellSource.ALLOGENEIC
    # Three autologous plans in four use bone marrow, the rest fat; the harvest follows.
    fat = not allogeneic and rng.random() >= 0.75
    return PlanDetails(
        source=source,
        product_type=ProductType.UMBILICAL_CORD_MSC
        if allogeneic
        else ProductType.MICROFRAGMENTED_ADIPOSE
        if fat
        else ProductType.BMAC,
        targets=(episode.target_site,),
        sessions=rng.choice([1, 1, 1, 2]),
        guidance=Guidance.FLUOROSCOPY
        if region_of(episode.target_site) is TargetRegion.SPINE
        else Guidance.ULTRASOUND,
        same_surgical_procedure=not allogeneic and rng.random() < 0.5,
        processing=(ProcessingKind.THAWING,)
        if allogeneic
        else (ProcessingKind.WASHING, ProcessingKind.FILTRATION)
        if fat
        else (ProcessingKind.CENTRIFUGATION, ProcessingKind.CONCENTRATION),
        price=Decimal(rng.randrange(3500, 6500, 50)),
        currency="USD",
        payment=Payment.SELF_PAY if rng.random() < 0.9 else Payment.INSURED,
        treatment_country="MX" if abroad else "US",
        abroad=abroad,
        home_clinician="Dr. Lena Ortiz, family medicine" if abroad else None,
        ind_number=f"IND {rng.randint(10000, 29999)}" if allogeneic else None,
    )


@dataclass
class DemoEvaluations:
    uow: UnitOfWork
    clock: MovableClock
    new_id: IdFactory
    ruleset: Ruleset
    physician: StaffMember
    password: str
    hasher: PasswordHasher
    rng: random.Random

    def _today(self) -> date:
        return self.clock.now().date()

    def _record(self, episode: Episode, assessment: Assessment) -> None:
        evaluation.record_assessment(
            self.uow, self.clock, self.new_id, self.physician, episode.id, assessment
        )

    def start(self, episode: Episode, patient: Patient) -> None:
        """An evaluation under way: an assessment still waiting for data."""
        assessment = incomplete(unremarkable(self.rng, patient, episode, self._today()))
        self._record(episode, assessment)
        evaluation.evaluate_episode(
            self.uow, self.clock, self.new_id, self.ruleset, self.physician, episode.id
        )

    def _sign(self, episode: Episode, patient: Patient) -> None:
        view = consent.consent_view(self.uow, self.clock, episode.id)
        assert view.document is not None, "signed after the plan"
        consent.sign_consent(
            self.uow,
            self.clock,
            self.new_id,
            self.physician,
            consent.SignConsent(
                episode_id=episode.id,
                expected_version=episodes.get_episode(self.uow, self.clock, episode.id).version,
                document_hash=view.document.content_hash,
                signed_name=f"{patient.given_name} {patient.family_name}",
                agreed=True,
            ),
        )

    def consent(self, episode: Episode, patient: Patient, source: CellSource) -> Episode:
        """The plan, the patient's signature; now and then the plan changes after signing
        (the consent is void) and the patient signs the new one a few days later."""
        details = demo_plan(self.rng, episode, source)
        consent.save_plan(self.uow, self.clock, self.new_id, self.physician, episode.id, details)
        self._sign(episode, patient)
        if self.rng.random() < 0.1:
            changed = replace(details, sessions=details.sessions + 1)
            consent.save_plan(
                self.uow, self.clock, self.new_id, self.physician, episode.id, changed
            )
            self.clock.advance(timedelta(days=2))
            self._sign(episode, patient)
        return episodes.get_episode(self.uow, self.clock, episode.id)

    def reconsent(self, episode: Episode, patient: Patient) -> Episode:
        """Before a repeat session: the plan gains one (its next version, which voids the
        standing consent) and the patient signs its document again (CON-1)."""
        with self.uow:
            plan = self.uow.evaluations.latest_plan(episode.id)
        assert plan is not None, "a repeat follows a consented plan"
        details = PlanDetails(
            **{name: getattr(plan, name) for name in PlanDetails.__dataclass_fields__}
        )
        consent.save_plan(
            self.uow,
            self.clock,
            self.new_id,
            self.physician,
            episode.id,
            replace(details, sessions=episode.sessions_given + 1),
        )
        self.clock.advance(timedelta(days=1))
        self._sign(episode, patient)
        return episodes.get_episode(self.uow, self.clock, episode.id)

    def decide(self, episode: Episode, patient: Patient, eligible: bool) -> Episode:
        """Assess and decide: an eligible path overrides SOFT findings (age, say) with a
        signed reason; an ineligible one records one finding and accepts the verdict."""
        today = self._today()
        assessment = unremarkable(self.rng, patient, episode, today)
        if not eligible:
            assessment = with_a_finding(self.rng, assessment, today)
        elif self.rng.random() < 0.15:
            assessment = replace(assessment, anticoagulants=True)  # SOFT: overridden below
        self._record(episode, assessment)
        computed = evaluate_rules(assessment, self.ruleset, today)
        override = eligible and computed.verdict is Verdict.INELIGIBLE and computed.overridable
        reason = (
            "Anticoagulation paused for the harvest under the haematologist's plan"
            if override and assessment.anticoagulants
            else "Fit and active for their age; benefits discussed at length"
            if override
            else None
        )
        evaluation.decide_eligibility(
            self.uow,
            self.clock,
            self.new_id,
            self.ruleset,
            Signer(self.physician, self.password, self.hasher, LockoutPolicy(), statement=reason),
            evaluation.DecideEligibility(
                episode_id=episode.id,
                expected_version=episode.version,
                override=override,
                reason=reason,
            ),
        )
        return episodes.get_episode(self.uow, self.clock, episode.id)
