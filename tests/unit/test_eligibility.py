"""The eligibility ruleset (regulatory.md section 3): one test per rule ID at its boundaries,
the verdict's order, the ruleset file, and two properties of the verdict."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regenpath.adapters.rulesets import load_ruleset
from regenpath.domain.assessment import (
    Assessment,
    CareKind,
    CareResult,
    ConservativeCare,
    DiabetesControl,
    Imaging,
    SmokingStatus,
)
from regenpath.domain.eligibility import RuleKind, Verdict, evaluate, parse_ruleset
from regenpath.domain.eligibility.checks import CHECKS
from regenpath.domain.errors import Guard, InvalidValue, TransitionRefused
from regenpath.domain.evaluation import physician_verdict
from regenpath.domain.patients import AdministrativeSex
from tests.unit.builders import KNEE, SPINE

TODAY = date(2026, 3, 2)
RULESET = load_ruleset()


def decide(assessment: Assessment, **changes: Any) -> Any:
    return evaluate(replace(assessment, **changes), RULESET, TODAY)


def rule_ids(decision: Any) -> list[str]:
    return [f.rule_id for f in decision.findings]


def imaging(assessment: Assessment, **changes: Any) -> Imaging:
    assert assessment.imaging is not None
    return replace(assessment.imaging, **changes)


def test_the_shipped_ruleset_names_every_rule_the_engine_checks() -> None:
    assert sorted(r.id for r in RULESET.rules) == sorted(CHECKS)
    assert all(r.source for r in RULESET.rules)


@pytest.mark.parametrize("baseline", [SPINE, KNEE], ids=["spine", "knee"])
def test_an_unremarkable_complete_assessment_is_eligible(baseline: Assessment) -> None:
    decision = evaluate(baseline, RULESET, TODAY)
    assert decision.verdict is Verdict.ELIGIBLE, decision.findings
    assert decision.findings == () and decision.ruleset_version == "orthobiologic-2026.1"


def test_EL_1_adults_only_and_an_upper_age_per_target() -> None:
    minor = decide(SPINE, age_years=17)
    assert minor.verdict is Verdict.INELIGIBLE and not minor.overridable
    assert minor.findings[0].kind is RuleKind.HARD
    assert decide(SPINE, age_years=18).verdict is Verdict.ELIGIBLE
    assert decide(SPINE, age_years=75).verdict is Verdict.ELIGIBLE
    older = decide(SPINE, age_years=76)
    assert rule_ids(older) == ["EL-1"] and older.overridable
    assert "Age 76 is outside 18-75 years" in older.findings[0].message
    assert decide(KNEE, age_years=70).verdict is Verdict.ELIGIBLE
    assert rule_ids(decide(KNEE, age_years=71)) == ["EL-1"]


def test_EL_2_conservative_care_must_have_failed_long_enough() -> None:
    def care(months: float, result: CareResult = CareResult.NO_RELIEF) -> Any:
        return (ConservativeCare(CareKind.PHYSIOTHERAPY, months, result),)

    assert decide(SPINE, conservative_care=care(6)).verdict is Verdict.ELIGIBLE
    assert rule_ids(decide(SPINE, conservative_care=care(5.9))) == ["EL-2"]
    helped = decide(SPINE, conservative_care=care(12, CareResult.GOOD_RELIEF))
    assert rule_ids(helped) == ["EL-2"]  # care that worked is no reason for cells
    assert rule_ids(decide(SPINE, conservative_care=())) == ["EL-2"]
    six_weeks = 6 * 12 / 52
    assert decide(KNEE, conservative_care=care(six_weeks)).verdict is Verdict.ELIGIBLE
    assert rule_ids(decide(KNEE, conservative_care=care(six_weeks - 0.05))) == ["EL-2"]


def test_EL_3_back_pain_for_6_to_60_months() -> None:
    assert decide(SPINE, symptom_onset=date(2025, 9, 2)).verdict is Verdict.ELIGIBLE  # 6 months
    assert rule_ids(decide(SPINE, symptom_onset=date(2025, 9, 3))) == ["EL-3"]
    assert decide(SPINE, symptom_onset=date(2021, 3, 2)).verdict is Verdict.ELIGIBLE  # 60
    assert rule_ids(decide(SPINE, symptom_onset=date(2021, 2, 1))) == ["EL-3"]
    assert decide(KNEE, symptom_onset=date(2026, 2, 1)).verdict is Verdict.ELIGIBLE


@pytest.mark.parametrize(
    ("changes", "eligible"),
    [
        ({"back_pain_nrs": 3}, False),
        ({"back_pain_nrs": 4, "leg_pain_nrs": 1}, True),
        ({"back_pain_nrs": 9}, True),
        ({"back_pain_nrs": 10}, False),
        ({"odi": 29}, False),
        ({"odi": 30}, True),
        ({"odi": 90}, True),
        ({"odi": 91}, False),
    ],
)
def test_EL_4_baseline_back_pain_and_disability(changes: dict[str, int], eligible: bool) -> None:
    decision = decide(SPINE, **changes)
    assert (decision.verdict is Verdict.ELIGIBLE) is eligible, decision.findings
    if not eligible:
        assert "EL-4" in rule_ids(decision)


def test_EL_4_knee_pain_at_least_4() -> None:
    assert rule_ids(decide(KNEE, pain_nrs=3)) == ["EL-4"]
    assert decide(KNEE, pain_nrs=4).verdict is Verdict.ELIGIBLE


@pytest.mark.parametrize(
    ("changes", "eligible"),
    [
        ({"pfirrmann_grade": 2}, False),
        ({"pfirrmann_grade": 3}, True),
        ({"pfirrmann_grade": 7}, True),
        ({"pfirrmann_grade": 8}, False),
        ({"disc_height_pct": 49.9}, False),
        ({"disc_height_pct": 50}, True),
        ({"modic_type": 2}, True),
        ({"modic_type": 3}, False),
        ({"levels_affected": 2}, False),
    ],
)
def test_EL_5_disc_imaging(changes: dict[str, float], eligible: bool) -> None:
    decision = decide(SPINE, imaging=imaging(SPINE, **changes))
    assert (decision.verdict is Verdict.ELIGIBLE) is eligible
    assert rule_ids(decision) == ([] if eligible else ["EL-5"])


@pytest.mark.parametrize(("grade", "eligible"), [(1, False), (2, True), (3, True), (4, False)])
def test_EL_6_kellgren_lawrence_2_to_3(grade: int, eligible: bool) -> None:
    decision = decide(KNEE, imaging=imaging(KNEE, kellgren_lawrence_grade=grade))
    assert rule_ids(decision) == ([] if eligible else ["EL-6"])


def test_EL_7_the_disc_confirmed_as_the_pain_source() -> None:
    assert rule_ids(decide(SPINE, facet_ruled_out=False)) == ["EL-7"]
    assert rule_ids(decide(SPINE, si_joint_ruled_out=False)) == ["EL-7"]
    assert decide(SPINE, leg_pain_nrs=3).verdict is Verdict.ELIGIBLE  # half of 6: allowed
    assert rule_ids(decide(SPINE, leg_pain_nrs=4)) == ["EL-7"]
    assert decide(SPINE, spondylolisthesis_grade=1).verdict is Verdict.ELIGIBLE
    assert rule_ids(decide(SPINE, spondylolisthesis_grade=2)) == ["EL-7"]


def test_EX_1_infection_is_a_hard_stop() -> None:
    for decision in (
        decide(SPINE, active_infection=True),
        decide(SPINE, imaging=imaging(SPINE, spinal_infection=True)),
    ):
        assert decision.verdict is Verdict.INELIGIBLE and not decision.overridable
        assert rule_ids(decision) == ["EX-1"]


def test_EX_2_malignancy_treated_within_5_years_and_not_a_day_more() -> None:
    assert rule_ids(decide(SPINE, active_malignancy=True)) == ["EX-2"]
    exactly_five = decide(SPINE, cancer_treatment_ended_on=date(2021, 3, 2))
    assert exactly_five.verdict is Verdict.ELIGIBLE
    a_day_less = decide(SPINE, cancer_treatment_ended_on=date(2021, 3, 3))
    assert a_day_less.verdict is Verdict.INELIGIBLE and not a_day_less.overridable
    assert "ended 2021-03-03" in a_day_less.findings[0].message


def test_EX_3_pregnancy_is_asked_unless_the_patient_is_male() -> None:
    assert rule_ids(decide(SPINE, pregnant_or_breastfeeding=True)) == ["EX-3"]
    unasked = decide(SPINE, pregnant_or_breastfeeding=None)
    assert unasked.verdict is Verdict.NEEDS_REVIEW
    assert unasked.missing == ("pregnant_or_breastfeeding",)
    assert decide(KNEE, pregnant_or_breastfeeding=None).verdict is Verdict.ELIGIBLE


def test_EX_4_immunosuppressants_hard_steroids_within_3_months_soft() -> None:
    hard = decide(SPINE, immunosuppressants=True)
    assert hard.verdict is Verdict.INELIGIBLE and not hard.overridable
    recent = decide(SPINE, steroid_injections=(date(2025, 12, 3),))
    assert rule_ids(recent) == ["EX-4"] and recent.overridable
    assert recent.findings[0].kind is RuleKind.SOFT
    assert "2025-12-03" in recent.findings[0].message
    three_months = decide(SPINE, steroid_injections=(date(2025, 12, 2),))
    assert three_months.verdict is Verdict.ELIGIBLE
    assert rule_ids(decide(KNEE, intra_articular_injections=(date(2026, 1, 20),))) == ["EX-4"]


def test_EX_5_severe_anaemia_hard_anticoagulants_soft() -> None:
    anaemia = decide(SPINE, severe_anaemia=True)
    assert anaemia.verdict is Verdict.INELIGIBLE and not anaemia.overridable
    anticoagulated = decide(SPINE, anticoagulants=True)
    assert rule_ids(anticoagulated) == ["EX-5"] and anticoagulated.overridable


def test_EX_6_uncontrolled_disease_is_soft() -> None:
    decision = decide(SPINE, diabetes=DiabetesControl.UNCONTROLLED)
    assert rule_ids(decision) == ["EX-6"] and decision.overridable
    assert decide(SPINE, diabetes=DiabetesControl.CONTROLLED).verdict is Verdict.ELIGIBLE


def test_EX_7_bmi_over_30_for_a_knee_under_18_for_a_disc() -> None:
    assert decide(KNEE, height_cm=100.0, weight_kg=30.0).verdict is Verdict.ELIGIBLE  # 30.0
    assert rule_ids(decide(KNEE, height_cm=100.0, weight_kg=30.1)) == ["EX-7"]
    assert rule_ids(decide(SPINE, height_cm=180.0, weight_kg=58.0)) == ["EX-7"]  # 17.9
    assert decide(SPINE, height_cm=180.0, weight_kg=58.4).verdict is Verdict.ELIGIBLE  # 18.0


def test_EX_8_prior_treatment_at_the_index_level_is_soft() -> None:
    decision = decide(SPINE, prior_cell_therapy=True)
    assert rule_ids(decision) == ["EX-8"] and decision.overridable
    assert "prior_cell_therapy" in decision.findings[0].message
    assert decide(KNEE, prior_intradiscal_injection=None).verdict is Verdict.ELIGIBLE


def test_EX_9_septic_arthritis_within_5_years_and_comorbidity() -> None:
    assert decide(KNEE, septic_arthritis=(date(2021, 3, 2),)).verdict is Verdict.ELIGIBLE
    assert rule_ids(decide(KNEE, septic_arthritis=(date(2021, 3, 3),))) == ["EX-9"]
    assert rule_ids(decide(SPINE, severe_depression=True)) == ["EX-9"]


def test_EX_10_nsaids_by_rxnorm_code_are_a_task_not_a_verdict() -> None:
    decision = decide(SPINE, medications=("5640", "197361"))  # ibuprofen, and amlodipine
    assert decision.verdict is Verdict.ELIGIBLE
    [task] = decision.findings
    assert task.rule_id == "EX-10" and task.kind is RuleKind.TASK
    assert "5640" in task.message and "2 weeks after" in task.message


def test_EX_11_smoking_is_recorded_as_a_risk_factor() -> None:
    decision = decide(SPINE, smoking=SmokingStatus.CURRENT)
    assert decision.verdict is Verdict.ELIGIBLE
    assert [(f.rule_id, f.kind) for f in decision.findings] == [("EX-11", RuleKind.INFO)]


def test_data_a_rule_needs_makes_the_decision_wait_naming_the_field() -> None:
    decision = decide(SPINE, medications=None, imaging=None)
    assert decision.verdict is Verdict.NEEDS_REVIEW
    assert decision.missing == ("imaging", "medications")
    assert any("Needs imaging" in f.message for f in decision.findings)


def test_a_hard_exclusion_decides_even_with_data_missing() -> None:
    decision = decide(SPINE, active_infection=True, medications=None)
    assert decision.verdict is Verdict.INELIGIBLE and not decision.overridable


def test_impossible_values_are_refused_naming_the_field() -> None:
    with pytest.raises(InvalidValue) as future:
        decide(SPINE, symptom_onset=date(2026, 3, 3))
    assert future.value.field == "symptom_onset"
    with pytest.raises(InvalidValue) as nrs:
        replace(SPINE, back_pain_nrs=11)
    assert nrs.value.field == "back_pain_nrs"
    with pytest.raises(InvalidValue) as bmi:
        replace(SPINE, height_cm=240.0, weight_kg=21.0)
    assert bmi.value.field == "weight_kg"


def test_a_clinics_own_thresholds_are_honoured() -> None:
    data = {
        "version": "clinic-1",
        "rules": [
            {
                "id": "EL-1",
                "kind": "inclusion",
                "message": "Age {age} over {max_age}",
                "source": "clinic policy",
                "parameters": {
                    "min_age": 18,
                    "max_age_spine": 60,
                    "max_age_joint": 70,
                    "below_min_is_hard": True,
                },
            }
        ],
    }
    strict = parse_ruleset(data)
    decision = evaluate(SPINE, strict, TODAY)
    assert decision.verdict is Verdict.ELIGIBLE and decision.ruleset_version == "clinic-1"
    assert evaluate(replace(SPINE, age_years=61), strict, TODAY).findings[0].message == (
        "Age 61 over 60"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "EL-99"}, "rules[0].id"),
        ({"kind": "maybe"}, "rules[0].kind"),
        ({"source": " "}, "rules[0].source"),
        ({"parameters": {"window_years": "five"}}, "rules[0].parameters.window_years"),
        ({"parameters": {}}, "rules[0].parameters"),
        ({"parameters": {"window_years": 5, "extra": 1}}, "rules[0].parameters"),
    ],
)
def test_a_broken_ruleset_is_refused_naming_where(change: dict[str, Any], field: str) -> None:
    rule = {
        "id": "EX-2",
        "kind": "hard",
        "message": "m",
        "source": "s",
        "parameters": {"window_years": 5},
    }
    with pytest.raises(InvalidValue) as refused:
        parse_ruleset({"version": "x", "rules": [rule | change]})
    assert refused.value.field == field


# --- Properties ------------------------------------------------------------------------------

OPTIONAL = [f.name for f in fields(Assessment) if f.name != "region"]


@st.composite
def assessments(draw: st.DrawFn) -> Assessment:
    """A complete baseline with some answers changed and some forgotten."""
    baseline = draw(st.sampled_from([SPINE, KNEE]))
    changes: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(OPTIONAL), unique=True, max_size=8)):
        changes[name] = None
    for name in ("back_pain_nrs", "leg_pain_nrs", "pain_nrs"):
        if draw(st.booleans()):
            changes[name] = draw(st.integers(0, 10))
    if draw(st.booleans()):
        changes["age_years"] = draw(st.integers(10, 95))
    for flag in ("anticoagulants", "prior_cell_therapy", "osteoporosis", "severe_depression"):
        if draw(st.booleans()):
            changes[flag] = draw(st.booleans())
    return replace(baseline, **changes)


@given(assessments())
def test_property_a_hard_finding_never_leaves_a_decision_eligible(assessment: Assessment) -> None:
    for hard in ({"active_infection": True}, {"pregnant_or_breastfeeding": True}):
        if "pregnant" in next(iter(hard)) and assessment.sex is AdministrativeSex.MALE:
            continue
        decision = evaluate(replace(assessment, **hard), RULESET, TODAY)
        assert decision.verdict is Verdict.INELIGIBLE and not decision.overridable


@given(assessments(), st.sampled_from(OPTIONAL))
def test_property_removing_data_never_makes_a_decision_eligible(
    assessment: Assessment, forgotten: str
) -> None:
    before = evaluate(assessment, RULESET, TODAY).verdict
    after = evaluate(replace(assessment, **{forgotten: None}), RULESET, TODAY).verdict
    if before is not Verdict.ELIGIBLE:
        assert after is not Verdict.ELIGIBLE
    if before is Verdict.NEEDS_REVIEW:
        assert after in (Verdict.NEEDS_REVIEW, Verdict.INELIGIBLE)


def test_the_physician_accepts_or_overrides_only_what_may_be_overridden() -> None:
    soft = decide(SPINE, anticoagulants=True)
    assert physician_verdict(soft, override=False, reason=None) is Verdict.INELIGIBLE
    assert (
        physician_verdict(soft, override=True, reason="Paused by haematology") is Verdict.ELIGIBLE
    )
    with pytest.raises(TransitionRefused) as no_reason:
        physician_verdict(soft, override=True, reason="  ")
    assert no_reason.value.guard is Guard.REASON_REQUIRED
    hard = decide(SPINE, anticoagulants=True, active_infection=True)
    with pytest.raises(TransitionRefused) as refused:
        physician_verdict(hard, override=True, reason="I insist")
    assert refused.value.guard is Guard.HARD_EXCLUSION and "EX-1" in str(refused.value)
    waiting = decide(SPINE, imaging=None)
    with pytest.raises(TransitionRefused) as incomplete:
        physician_verdict(waiting, override=False, reason=None)
    assert incomplete.value.guard is Guard.ASSESSMENT_INCOMPLETE
    with pytest.raises(TransitionRefused) as nothing:
        physician_verdict(decide(SPINE), override=True, reason="why not")
    assert nothing.value.guard is Guard.NOTHING_TO_OVERRIDE
