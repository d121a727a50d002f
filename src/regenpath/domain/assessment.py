"""The evaluation of an episode, as the eligibility rules read it.

Every field may be unknown (``None``): a rule that needs an unknown field says so, and the
decision is ``needs_review`` naming the field; nothing unknown ever passes silently. An empty
tuple is a known "none" (no medication, no steroid injection), ``None`` is "not asked yet".
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum

from regenpath.domain.codes import icd10cm_code
from regenpath.domain.errors import InvalidValue
from regenpath.domain.patients import AdministrativeSex


class TargetRegion(StrEnum):
    """Where the cells go; the rules for discs and for knees differ (EL-4, EL-5, EL-6)."""

    SPINE = "spine"
    KNEE = "knee"
    OTHER_JOINT = "other_joint"


def region_of(target_site: str) -> TargetRegion:
    """The region an episode's target names: a disc or a spinal level, a knee, another joint."""
    target = target_site.strip().lower()
    if "disc" in target or (target[:1] in ("l", "s", "t", "c") and target[1:2].isdigit()):
        return TargetRegion.SPINE
    return TargetRegion.KNEE if "knee" in target else TargetRegion.OTHER_JOINT


class CareKind(StrEnum):
    MEDICATION = "medication"
    PHYSIOTHERAPY = "physiotherapy"
    INJECTION = "injection"
    SURGERY = "surgery"


class CareResult(StrEnum):
    NO_RELIEF = "no_relief"
    PARTIAL_RELIEF = "partial_relief"
    GOOD_RELIEF = "good_relief"


class ImagingModality(StrEnum):
    MRI = "mri"
    XRAY = "xray"
    CT = "ct"
    ULTRASOUND = "ultrasound"


class DiabetesControl(StrEnum):
    NONE = "none"
    CONTROLLED = "controlled"
    UNCONTROLLED = "uncontrolled"


class SmokingStatus(StrEnum):
    NEVER = "never"
    FORMER = "former"
    CURRENT = "current"


class ActivityLevel(StrEnum):
    """Lifestyle: recorded for the physician and the outcome analysis; no source gives an
    eligibility threshold, so no rule reads it."""

    SEDENTARY = "sedentary"
    LIGHT = "light"
    MODERATE = "moderate"
    VIGOROUS = "vigorous"


@dataclass(frozen=True)
class ConservativeCare:
    """One kind of care tried before: how long, and whether it helped (EL-2)."""

    kind: CareKind
    months: float
    result: CareResult

    @property
    def failed(self) -> bool:
        return self.result is not CareResult.GOOD_RELIEF


@dataclass(frozen=True)
class Imaging:
    """The imaging the decision rests on: disc grades (EL-5) or knee grade (EL-6)."""

    modality: ImagingModality
    taken_on: date
    pfirrmann_grade: int | None = None  # modified Pfirrmann, 1-8
    modic_type: int | None = None  # 0 (none) to 3
    disc_height_pct: float | None = None  # of the adjacent normal disc
    levels_affected: int | None = None
    kellgren_lawrence_grade: int | None = None  # 0-4
    spinal_infection: bool = False


# Physical and recording ranges: a value outside one is a typing error, not a clinical finding.
RANGES: dict[str, tuple[float, float]] = {
    "age_years": (0, 130),
    "back_pain_nrs": (0, 10),
    "leg_pain_nrs": (0, 10),
    "pain_nrs": (0, 10),
    "odi": (0, 100),
    "height_cm": (50, 250),
    "weight_kg": (20, 400),
    "spondylolisthesis_grade": (0, 5),
}
IMAGING_RANGES: dict[str, tuple[float, float]] = {
    "pfirrmann_grade": (1, 8),
    "modic_type": (0, 3),
    "disc_height_pct": (0, 100),
    "levels_affected": (1, 6),
    "kellgren_lawrence_grade": (0, 4),
}


@dataclass(frozen=True)
class Assessment:
    region: TargetRegion
    condition_code: str | None = None  # ICD-10-CM
    age_years: int | None = None
    sex: AdministrativeSex | None = None
    symptom_onset: date | None = None
    back_pain_nrs: int | None = None
    leg_pain_nrs: int | None = None
    pain_nrs: int | None = None  # joints: the index joint's pain
    odi: int | None = None  # Oswestry Disability Index, 0-100
    conservative_care: tuple[ConservativeCare, ...] | None = None
    imaging: Imaging | None = None
    facet_ruled_out: bool | None = None
    si_joint_ruled_out: bool | None = None
    spondylolisthesis_grade: int | None = None
    active_infection: bool | None = None
    active_malignancy: bool | None = None
    cancer_treatment_ended_on: date | None = None  # the last chemo- or immunotherapy, if any
    immunosuppressants: bool | None = None
    pregnant_or_breastfeeding: bool | None = None
    steroid_injections: tuple[date, ...] | None = None  # systemic or epidural
    intra_articular_injections: tuple[date, ...] | None = None
    severe_anaemia: bool | None = None
    bleeding_disorder: bool | None = None
    anticoagulants: bool | None = None
    diabetes: DiabetesControl | None = None
    uncontrolled_hypertension: bool | None = None
    serious_systemic_disease: bool | None = None
    height_cm: float | None = None
    weight_kg: float | None = None
    osteoporosis: bool | None = None
    prior_surgery_at_index: bool | None = None
    prior_intradiscal_injection: bool | None = None
    prior_cell_therapy: bool | None = None
    substance_abuse: bool | None = None
    severe_depression: bool | None = None
    hiv_or_chronic_hepatitis: bool | None = None
    septic_arthritis: tuple[date, ...] | None = None
    medications: tuple[str, ...] | None = None  # RxNorm ingredient codes
    smoking: SmokingStatus | None = None
    activity: ActivityLevel | None = None

    def __post_init__(self) -> None:
        if self.condition_code is not None:
            object.__setattr__(self, "condition_code", icd10cm_code(self.condition_code))
        for name, (low, high) in RANGES.items():
            value = getattr(self, name)
            if value is not None and not low <= value <= high:
                raise InvalidValue(name, f"{value:g} is outside {low:g}-{high:g}")
        if self.imaging is not None:
            for name, (low, high) in IMAGING_RANGES.items():
                value = getattr(self.imaging, name)
                if value is not None and not low <= value <= high:
                    raise InvalidValue(f"imaging.{name}", f"{value:g} is outside {low:g}-{high:g}")
        if self.bmi is not None and not 10 <= self.bmi <= 80:
            raise InvalidValue("weight_kg", f"a BMI of {self.bmi:.0f} is outside human range")

    @property
    def bmi(self) -> float | None:
        if self.height_cm is None or self.weight_kg is None:
            return None
        return self.weight_kg / (self.height_cm / 100) ** 2

    def dates(self) -> list[tuple[str, date]]:
        """Every date the assessment holds, with its field: none may lie in the future."""
        found: list[tuple[str, date]] = []
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, date):
                found.append((item.name, value))
            elif isinstance(value, tuple):
                found += [(item.name, v) for v in value if isinstance(v, date)]
        if self.imaging is not None:
            found.append(("imaging.taken_on", self.imaging.taken_on))
        return found

    def refuse_future_dates(self, today: date) -> None:
        for name, value in self.dates():
            if value > today:
                raise InvalidValue(name, f"{value.isoformat()} is in the future")
