"""The recovery plan after an injection: what to do day by day, what to avoid, milestones, and
lifestyle advice chosen from the patient's own assessment.

RCV-1 (docs/rules.md): no NSAIDs for 2 weeks; rest 24-48 h; low-impact use for 2 weeks;
light activity in weeks 3-4; running or lifting after week 4. EX-10: the NSAIDs are the
eligibility ruleset's own list of RxNorm ingredients, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from regenpath.domain.assessment import Assessment, SmokingStatus, TargetRegion

NO_NSAID_DAYS = 14  # RCV-1

# RxNorm ingredient code -> the name a patient knows (the EX-10 list's members).
NSAID_NAMES = {
    "1191": "aspirin",
    "3355": "diclofenac",
    "5640": "ibuprofen",
    "5781": "indomethacin",
    "6142": "ketoprofen",
    "7258": "naproxen",
    "8356": "piroxicam",
    "24605": "etodolac",
    "31448": "nabumetone",
    "35827": "ketorolac",
    "41493": "meloxicam",
    "140587": "celecoxib",
}


@dataclass(frozen=True)
class RecoveryPhase:
    first_day: int  # days after the injection, the injection day being 0
    last_day: int | None  # None: from then on
    title: str
    instructions: tuple[str, ...]

    def covers(self, day: int) -> bool:
        return day >= self.first_day and (self.last_day is None or day <= self.last_day)


@dataclass(frozen=True)
class Milestone:
    day: int
    text: str


@dataclass(frozen=True)
class RecoveryPlan:
    episode_id: UUID
    cycle_number: int
    injected_on: date
    phases: tuple[RecoveryPhase, ...]
    milestones: tuple[Milestone, ...]
    nsaid_warnings: tuple[str, ...]  # the NSAIDs on the patient's medication list
    physiotherapy_referral: str
    lifestyle: tuple[str, ...]
    acknowledged_at: datetime | None = None

    @property
    def no_nsaids_until(self) -> date:
        return self.injected_on + timedelta(days=NO_NSAID_DAYS)

    def phase_on(self, day: date) -> RecoveryPhase | None:
        offset = (day - self.injected_on).days
        return next((phase for phase in self.phases if phase.covers(offset)), None)


def _phases(region: TargetRegion) -> tuple[RecoveryPhase, ...]:
    """RCV-1 in the patient's words; what "low impact" means depends on where the cells went."""
    joint = "the treated knee" if region is TargetRegion.KNEE else "the treated joint"
    loaded = "your back" if region is TargetRegion.SPINE else joint
    return (
        RecoveryPhase(
            0,
            1,
            "Rest (first 24-48 hours)",
            (
                "Rest at home; short walks around the house are fine.",
                "Soreness and stiffness at the injection site are expected; use ice 15 minutes"
                " at a time and paracetamol (acetaminophen) if you need a painkiller.",
                "Keep the dressing dry for 24 hours.",
            ),
        ),
        RecoveryPhase(
            2,
            NO_NSAID_DAYS,
            "Gentle use (to the end of week 2)",
            (
                f"Light, low-impact activity only: walking, no lifting or twisting of {loaded}.",
                "No anti-inflammatory painkillers (NSAIDs such as ibuprofen, naproxen,"
                " diclofenac, aspirin for pain): they may blunt the cells' effect.",
                "No strenuous exercise, running or sport.",
            ),
        ),
        RecoveryPhase(
            NO_NSAID_DAYS + 1,
            28,
            "Light activity (weeks 3-4)",
            (
                "Build up walking and the exercises your physiotherapist gives you.",
                "Still no running, jumping or heavy lifting.",
            ),
        ),
        RecoveryPhase(
            29,
            None,
            "Return to activity (from week 5)",
            (
                "Running, lifting and sport may start again, gradually, as your physician"
                " or physiotherapist advises.",
                "Improvement is usually slow: over weeks to months. Keep filling in your"
                " check-ins so your care team can see it.",
            ),
        ),
    )


def _milestones(region: TargetRegion) -> tuple[Milestone, ...]:
    walk = (
        "Walk 20 minutes without more pain"
        if region is TargetRegion.SPINE
        else ("Walk 20 minutes on level ground")
    )
    return (
        Milestone(2, "Back to light daily activities"),
        Milestone(7, "First physiotherapy session"),
        Milestone(14, walk),
        Milestone(NO_NSAID_DAYS + 1, "NSAIDs allowed again if your physician agrees"),
        Milestone(29, "Start strengthening and a gradual return to sport"),
    )


def _lifestyle(region: TargetRegion, assessment: Assessment | None) -> tuple[str, ...]:
    """Advice from what the patient told us; nothing is said about what we do not know."""
    advice: list[str] = []
    if assessment is not None:
        if assessment.smoking is SmokingStatus.CURRENT:
            advice.append(
                "Smoking slows healing and may make the treatment work less well: ask us"
                " about help to stop."
            )
        bmi = assessment.bmi
        if bmi is not None and bmi >= 30:
            advice.append(
                f"Your weight (BMI {bmi:.0f}) loads your "
                f"{'spine' if region is TargetRegion.SPINE else 'joints'}: even a small loss"
                " eases them; we can refer you to a dietitian."
            )
        if assessment.activity is not None and assessment.activity.value == "sedentary":
            advice.append(
                "Regular gentle exercise after week 4 (walking, swimming, cycling) helps the"
                " result last."
            )
    if region is TargetRegion.SPINE:
        advice.append(
            "Posture: change position every 30-45 minutes when sitting; lift with your legs."
        )
    advice.append("Sleep: keep regular hours; poor sleep makes pain feel worse.")
    advice.append("Stress makes pain worse too: tell us if you are struggling.")
    return tuple(advice)


def recovery_plan(
    *,
    episode_id: UUID,
    cycle_number: int,
    injected_on: date,
    region: TargetRegion,
    assessment: Assessment | None,
    nsaid_codes: Collection[str],
) -> RecoveryPlan:
    """The plan for one injection (RCV-1), with an NSAID warning for each NSAID on the
    patient's medication list during the no-NSAID window (EX-10)."""
    taken = sorted(set(assessment.medications or ()) & set(nsaid_codes)) if assessment else []
    warnings = tuple(
        f"{NSAID_NAMES.get(code, 'RxNorm ' + code).capitalize()} is an NSAID: do not take it"
        f" until {(injected_on + timedelta(days=NO_NSAID_DAYS + 1)).isoformat()}"
        + (
            " unless your physician says so (low-dose aspirin for the heart: ask first)"
            if code == "1191"
            else ""
        )
        + "."
        for code in taken
    )
    referral = (
        "Physiotherapy referral: core stability and graded activity from week 1."
        if region is TargetRegion.SPINE
        else "Physiotherapy referral: range of motion, then quadriceps and hip strengthening"
        " from week 1."
    )
    return RecoveryPlan(
        episode_id=episode_id,
        cycle_number=cycle_number,
        injected_on=injected_on,
        phases=_phases(region),
        milestones=_milestones(region),
        nsaid_warnings=warnings,
        physiotherapy_referral=referral,
        lifestyle=_lifestyle(region, assessment),
    )
