"""What each rule of docs/rules.md checks; its thresholds come from the ruleset."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from regenpath.domain.assessment import Assessment, TargetRegion
from regenpath.domain.eligibility.model import (
    Check,
    RuleKind,
    full_months,
    within_months,
    within_years,
)
from regenpath.domain.patients import AdministrativeSex


def _missing(assessment: Assessment, *names: str) -> tuple[str, ...]:
    return tuple(name for name in names if getattr(assessment, name) is None)


def _imaging_missing(assessment: Assessment, *names: str) -> tuple[str, ...]:
    if assessment.imaging is None:
        return ("imaging",)
    return tuple(f"imaging.{n}" for n in names if getattr(assessment.imaging, n) is None)


P = Mapping[str, Any]


def _age(a: Assessment, p: P, today: date) -> Check:
    """EL-1: adults only; the upper limit differs by target (60-75 in the trials)."""
    if (missing := _missing(a, "age_years")) or a.age_years is None:
        return Check(missing=missing)
    upper = p["max_age_spine"] if a.region is TargetRegion.SPINE else p["max_age_joint"]
    too_young = a.age_years < p["min_age"]
    kind = RuleKind.HARD if too_young and p["below_min_is_hard"] else None
    values = {"age": a.age_years, "max_age": upper}
    return Check(triggered=too_young or a.age_years > upper, values=values, kind=kind)


def _conservative_care(a: Assessment, p: P, today: date) -> Check:
    """EL-2: conservative care tried and failed long enough (spine in months, joints in weeks)."""
    if (missing := _missing(a, "conservative_care")) or a.conservative_care is None:
        return Check(missing=missing)
    failed = max((c.months for c in a.conservative_care if c.failed), default=0.0)
    if a.region is TargetRegion.SPINE:
        needed = float(p["spine_min_months"])
    else:
        needed = float(p["joint_min_weeks"]) * 12 / 52
    values = {"failed_months": round(failed, 1), "needed_months": round(needed, 1)}
    return Check(triggered=failed < needed, values=values)


def _symptom_duration(a: Assessment, p: P, today: date) -> Check:
    """EL-3: low back pain for at least 6 months, and (one trial) not over 60 months."""
    if a.region is not TargetRegion.SPINE:
        return Check(applies=False)
    if (missing := _missing(a, "symptom_onset")) or a.symptom_onset is None:
        return Check(missing=missing)
    months = full_months(a.symptom_onset, today)
    longest = p["spine_max_months"]
    too_long = bool(longest) and months > longest
    return Check(triggered=months < p["spine_min_months"] or too_long, values={"months": months})


def _baseline_scores(a: Assessment, p: P, today: date) -> Check:
    """EL-4: back pain 4-9 of 10 and ODI 30-90 (spine); joint pain at least 4 of 10."""
    if a.region is TargetRegion.SPINE:
        if missing := _missing(a, "back_pain_nrs", "odi"):
            return Check(missing=missing)
        assert a.back_pain_nrs is not None and a.odi is not None
        pain_ok = p["spine_min_nrs"] <= a.back_pain_nrs <= p["spine_max_nrs"]
        odi_ok = p["min_odi"] <= a.odi <= p["max_odi"]
        values = {"back_pain_nrs": a.back_pain_nrs, "odi": a.odi}
        return Check(triggered=not (pain_ok and odi_ok), values=values)
    if (missing := _missing(a, "pain_nrs")) or a.pain_nrs is None:
        return Check(missing=missing)
    return Check(triggered=a.pain_nrs < p["joint_min_nrs"], values={"pain_nrs": a.pain_nrs})


def _disc_imaging(a: Assessment, p: P, today: date) -> Check:
    """EL-5: modified Pfirrmann 3-7, disc height at least 50 %, no Modic 3, a single level."""
    if a.region is not TargetRegion.SPINE:
        return Check(applies=False)
    names = ("pfirrmann_grade", "modic_type", "disc_height_pct", "levels_affected")
    if (missing := _imaging_missing(a, *names)) or a.imaging is None:
        return Check(missing=missing)
    i = a.imaging
    assert i.pfirrmann_grade is not None and i.disc_height_pct is not None
    assert i.levels_affected is not None
    problems = [
        not p["pfirrmann_min"] <= i.pfirrmann_grade <= p["pfirrmann_max"],
        i.disc_height_pct < p["disc_height_min_pct"],
        i.modic_type in p["excluded_modic_types"],
        i.levels_affected > p["max_levels"],
    ]
    values = {name: getattr(i, name) for name in names}
    return Check(triggered=any(problems), values=values)


def _knee_imaging(a: Assessment, p: P, today: date) -> Check:
    """EL-6: Kellgren-Lawrence grade 2-3."""
    if a.region is not TargetRegion.KNEE:
        return Check(applies=False)
    if (missing := _imaging_missing(a, "kellgren_lawrence_grade")) or a.imaging is None:
        return Check(missing=missing)
    grade = a.imaging.kellgren_lawrence_grade
    assert grade is not None
    return Check(triggered=not p["kl_min"] <= grade <= p["kl_max"], values={"kl_grade": grade})


def _pain_source(a: Assessment, p: P, today: date) -> Check:
    """EL-7: the disc confirmed as the pain source: facet and SI joint ruled out, leg pain not
    over half the back pain, no instability of grade 2 or more."""
    if a.region is not TargetRegion.SPINE:
        return Check(applies=False)
    names = (
        "facet_ruled_out",
        "si_joint_ruled_out",
        "back_pain_nrs",
        "leg_pain_nrs",
        "spondylolisthesis_grade",
    )
    if missing := _missing(a, *names):
        return Check(missing=missing)
    assert a.leg_pain_nrs is not None and a.back_pain_nrs is not None
    assert a.spondylolisthesis_grade is not None
    problems = [
        not a.facet_ruled_out,
        not a.si_joint_ruled_out,
        a.leg_pain_nrs > p["max_leg_share"] * a.back_pain_nrs,
        a.spondylolisthesis_grade > p["max_spondylolisthesis_grade"],
    ]
    return Check(triggered=any(problems), values={name: getattr(a, name) for name in names})


def _infection(a: Assessment, p: P, today: date) -> Check:
    """EX-1: active systemic or local infection, or spinal infection on MRI."""
    if missing := _missing(a, "active_infection"):
        return Check(missing=missing)
    on_mri = a.imaging is not None and a.imaging.spinal_infection
    return Check(triggered=bool(a.active_infection) or on_mri, values={"on_imaging": on_mri})


def _malignancy(a: Assessment, p: P, today: date) -> Check:
    """EX-2: active malignancy, or chemo- or immunosuppressive therapy within 5 years."""
    if missing := _missing(a, "active_malignancy"):
        return Check(missing=missing)
    ended = a.cancer_treatment_ended_on
    recent = ended is not None and within_years(ended, int(p["window_years"]), today)
    values = {"treatment_ended_on": ended.isoformat() if ended else None}
    return Check(triggered=bool(a.active_malignancy) or recent, values=values)


def _pregnancy(a: Assessment, p: P, today: date) -> Check:
    """EX-3: pregnancy or breastfeeding."""
    if a.sex is AdministrativeSex.MALE:
        return Check(applies=False)
    if missing := _missing(a, "pregnant_or_breastfeeding"):
        return Check(missing=missing)
    return Check(triggered=bool(a.pregnant_or_breastfeeding))


def _immunosuppression(a: Assessment, p: P, today: date) -> Check:
    """EX-4: systemic immunosuppressants (HARD); systemic or epidural steroids, or an
    intra-articular injection, within 3 months (SOFT)."""
    names = ["immunosuppressants", "steroid_injections"]
    if a.region is not TargetRegion.SPINE:
        names.append("intra_articular_injections")
    if missing := _missing(a, *names):
        return Check(missing=missing)
    window = int(p["window_months"])
    recent = [
        d
        for d in (*(a.steroid_injections or ()), *(a.intra_articular_injections or ()))
        if within_months(d, window, today)
    ]
    values = {"recent_injections": [d.isoformat() for d in recent]}
    if a.immunosuppressants:
        return Check(triggered=True, values=values, kind=RuleKind.HARD)
    return Check(triggered=bool(recent), values=values, kind=RuleKind.SOFT)


def _bleeding(a: Assessment, p: P, today: date) -> Check:
    """EX-5: severe anaemia (HARD, for a marrow harvest); anticoagulants or a bleeding
    disorder (SOFT, with a documented plan)."""
    if missing := _missing(a, "severe_anaemia", "bleeding_disorder", "anticoagulants"):
        return Check(missing=missing)
    if a.severe_anaemia:
        return Check(triggered=True, values={"severe_anaemia": True}, kind=RuleKind.HARD)
    triggered = bool(a.anticoagulants or a.bleeding_disorder)
    values = {"anticoagulants": a.anticoagulants, "bleeding_disorder": a.bleeding_disorder}
    return Check(triggered=triggered, values=values, kind=RuleKind.SOFT)


def _systemic_disease(a: Assessment, p: P, today: date) -> Check:
    """EX-6: uncontrolled diabetes or hypertension, serious systemic disease."""
    names = ("diabetes", "uncontrolled_hypertension", "serious_systemic_disease")
    if missing := _missing(a, *names):
        return Check(missing=missing)
    triggered = (
        a.diabetes == "uncontrolled"
        or bool(a.uncontrolled_hypertension)
        or bool(a.serious_systemic_disease)
    )
    return Check(triggered=triggered, values={name: getattr(a, name) for name in names})


def _bmi(a: Assessment, p: P, today: date) -> Check:
    """EX-7: BMI over 30 for a knee; under 18 for a disc."""
    if a.region is TargetRegion.OTHER_JOINT:
        return Check(applies=False)
    if (missing := _missing(a, "height_cm", "weight_kg")) or a.bmi is None:
        return Check(missing=missing)
    bmi = round(a.bmi, 1)
    if a.region is TargetRegion.KNEE:
        return Check(triggered=bmi > p["knee_max_bmi"], values={"bmi": bmi})
    return Check(triggered=bmi < p["spine_min_bmi"], values={"bmi": bmi})


def _prior_treatment(a: Assessment, p: P, today: date) -> Check:
    """EX-8: osteoporosis; prior surgery (or intradiscal injection) at the index level; prior
    cell therapy."""
    names = ["osteoporosis", "prior_surgery_at_index", "prior_cell_therapy"]
    if a.region is TargetRegion.SPINE:
        names.append("prior_intradiscal_injection")
    if missing := _missing(a, *names):
        return Check(missing=missing)
    found = [name for name in names if getattr(a, name)]
    return Check(triggered=bool(found), values={"found": found})


def _comorbidity(a: Assessment, p: P, today: date) -> Check:
    """EX-9: substance abuse, severe depression, HIV or chronic hepatitis, septic arthritis
    within 5 years."""
    names = ("substance_abuse", "severe_depression", "hiv_or_chronic_hepatitis")
    if missing := _missing(a, *names, "septic_arthritis"):
        return Check(missing=missing)
    window = int(p["septic_arthritis_window_years"])
    septic = [d for d in a.septic_arthritis or () if within_years(d, window, today)]
    found = [name for name in names if getattr(a, name)]
    if septic:
        found.append("septic_arthritis")
    return Check(triggered=bool(found), values={"found": found})


def _nsaids(a: Assessment, p: P, today: date) -> Check:
    """EX-10: NSAIDs taken now are to be stopped before screening and after the procedure."""
    if (missing := _missing(a, "medications")) or a.medications is None:
        return Check(missing=missing)
    taken = sorted(set(a.medications) & {str(code) for code in p["nsaid_rxnorm_codes"]})
    return Check(triggered=bool(taken), values={"nsaids": taken})


def _smoking(a: Assessment, p: P, today: date) -> Check:
    """EX-11: smoking is recorded as a risk factor; no threshold is known."""
    if missing := _missing(a, "smoking"):
        return Check(missing=missing)
    return Check(triggered=a.smoking == "current", values={"smoking": a.smoking})


RuleCheck = Callable[[Assessment, P, date], Check]

# Parameter types in a ruleset file.
NUMBER, FLAG, LIST = "number", "flag", "list"


def _spec(**kinds: str) -> Mapping[str, str]:
    return kinds


# The rule IDs this engine knows, what each checks, and the parameters it reads.
CHECKS: Mapping[str, tuple[RuleCheck, Mapping[str, str]]] = {
    "EL-1": (
        _age,
        _spec(min_age=NUMBER, max_age_spine=NUMBER, max_age_joint=NUMBER, below_min_is_hard=FLAG),
    ),
    "EL-2": (_conservative_care, _spec(spine_min_months=NUMBER, joint_min_weeks=NUMBER)),
    "EL-3": (_symptom_duration, _spec(spine_min_months=NUMBER, spine_max_months=NUMBER)),
    "EL-4": (
        _baseline_scores,
        _spec(
            spine_min_nrs=NUMBER,
            spine_max_nrs=NUMBER,
            min_odi=NUMBER,
            max_odi=NUMBER,
            joint_min_nrs=NUMBER,
        ),
    ),
    "EL-5": (
        _disc_imaging,
        _spec(
            pfirrmann_min=NUMBER,
            pfirrmann_max=NUMBER,
            disc_height_min_pct=NUMBER,
            excluded_modic_types=LIST,
            max_levels=NUMBER,
        ),
    ),
    "EL-6": (_knee_imaging, _spec(kl_min=NUMBER, kl_max=NUMBER)),
    "EL-7": (_pain_source, _spec(max_leg_share=NUMBER, max_spondylolisthesis_grade=NUMBER)),
    "EX-1": (_infection, _spec()),
    "EX-2": (_malignancy, _spec(window_years=NUMBER)),
    "EX-3": (_pregnancy, _spec()),
    "EX-4": (_immunosuppression, _spec(window_months=NUMBER)),
    "EX-5": (_bleeding, _spec()),
    "EX-6": (_systemic_disease, _spec()),
    "EX-7": (_bmi, _spec(knee_max_bmi=NUMBER, spine_min_bmi=NUMBER)),
    "EX-8": (_prior_treatment, _spec()),
    "EX-9": (_comorbidity, _spec(septic_arthritis_window_years=NUMBER)),
    "EX-10": (_nsaids, _spec(nsaid_rxnorm_codes=LIST)),
    "EX-11": (_smoking, _spec()),
}


def parameter_fits(kind: str, value: object) -> bool:
    """A ruleset parameter of the type its check reads."""
    if kind == FLAG:
        return isinstance(value, bool)
    if kind == LIST:
        return isinstance(value, list)
    return isinstance(value, int | float) and not isinstance(value, bool)
