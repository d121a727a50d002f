"""The rules that keep a treatment within what was planned and consented, checked in the
domain at every step and never only in a page.

CON-1, consent scope: the patient consents to the plan's document (domain/consent.py), which
names the cells (source and product type), the targets and the number of sessions. A cycle is
planned, its product harvested or allocated, and its injection given only within that scope;
anything beyond it is a new plan version and a new signature (the consent document binds the
plan's hash). Source: the informed-consent duty as the AMA Code of Medical Ethics states it
(Opinion 2.1.1: the patient consents to a specific intervention, not to more of it).

SITE-1, the procedure-room time-out: The Joint Commission's Universal Protocol for preventing
wrong site, wrong procedure and wrong person surgery (UP.01.01.01 pre-procedure verification,
UP.01.02.01 site marking, UP.01.03.01 the time-out before the procedure starts). Before the
injection the team confirms patient, procedure, site, side and product; regenpath checks the
record against the episode (target region, level or joint, side) and the consented plan
(targets, approach, guidance, cell source and product type, sessions). A mismatch is a hard
stop naming each one; the service records it as a near-miss deviation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from regenpath.domain.assessment import TargetRegion, region_of
from regenpath.domain.consent import TreatmentPlan
from regenpath.domain.errors import Guard, GuardFailure
from regenpath.domain.procedures import Approach, InjectionRecord, Laterality, Side
from regenpath.domain.products import CellSource, Product

# Which approaches reach which region; an approach not listed for the episode's region is
# another procedure than the one planned.
_APPROACHES: dict[TargetRegion, frozenset[Approach]] = {
    TargetRegion.SPINE: frozenset(
        {
            Approach.POSTEROLATERAL_INTRADISCAL,
            Approach.TRANSFORAMINAL_EPIDURAL,
            Approach.INTERLAMINAR_EPIDURAL,
            Approach.FACET_INTRA_ARTICULAR,
            Approach.SACROILIAC_INTRA_ARTICULAR,
            Approach.INTRAOSSEOUS,
        }
    ),
    TargetRegion.KNEE: frozenset(
        {
            Approach.KNEE_SUPEROLATERAL,
            Approach.KNEE_ANTEROMEDIAL,
            Approach.PERITENDINOUS,
            Approach.INTRAOSSEOUS,
        }
    ),
    TargetRegion.OTHER_JOINT: frozenset(
        {Approach.INTRA_ARTICULAR_OTHER, Approach.PERITENDINOUS, Approach.INTRAOSSEOUS}
    ),
}
# Sides a site may be injected on, by the episode's laterality.
_SIDES: dict[Laterality, frozenset[Side]] = {
    Laterality.LEFT: frozenset({Side.LEFT}),
    Laterality.RIGHT: frozenset({Side.RIGHT}),
    Laterality.BILATERAL: frozenset({Side.LEFT, Side.RIGHT, Side.BILATERAL}),
    Laterality.NOT_APPLICABLE: frozenset(Side),
}
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")


def same_target(first: str, second: str) -> bool:
    """Two spellings of one target: case, spaces and dash forms aside ("L4 en-dash L5 disc" is
    "l4-l5  DISC")."""
    return _normalised(first) == _normalised(second)


def _normalised(target: str) -> str:
    return " ".join(_DASHES.sub("-", target).casefold().split())


def approaches_for(target_site: str) -> list[Approach]:
    """The approaches that reach the episode's target region, in the enum's order (the
    injection form offers only these)."""
    allowed = _APPROACHES[region_of(target_site)]
    return [approach for approach in Approach if approach in allowed]


def sides_for(laterality: Laterality) -> list[Side]:
    allowed = _SIDES[laterality]
    return [side for side in Side if side in allowed]


def usual_side(laterality: Laterality) -> Side:
    """The side a site of this episode is injected on unless the plan says otherwise (a
    spinal level, with no side of its own, is midline): the injection form's default."""
    return {
        Laterality.LEFT: Side.LEFT,
        Laterality.RIGHT: Side.RIGHT,
        Laterality.BILATERAL: Side.BILATERAL,
    }.get(laterality, Side.MIDLINE)


def consent_scope_failures(
    plan: TreatmentPlan | None,
    administered: int,
    cell_source: CellSource | None,
    product: Product | None = None,
) -> list[GuardFailure]:
    """CON-1: a further cycle (or its product) within the consented plan. ``administered``:
    the sessions already given in this episode, not counting the one being checked."""
    if plan is None:
        return [
            GuardFailure(
                Guard.CONSENTED_PLAN_REQUIRED,
                "There is no consented treatment plan to act on.",
            )
        ]
    failures = []
    if administered + 1 > plan.sessions:
        failures.append(
            GuardFailure(
                Guard.CONSENT_SCOPE_SESSIONS,
                f"The consent covers {plan.sessions} session{'s' * (plan.sessions != 1)} and"
                f" {administered} {'was' if administered == 1 else 'were'} given: a further one"
                " needs a new plan version and the patient's new signature.",
            )
        )
    if cell_source is not None and cell_source is not plan.source:
        failures.append(
            GuardFailure(
                Guard.CONSENT_SCOPE_CELL_SOURCE,
                f"The consent covers {plan.source} cells, not {cell_source}: change the plan"
                " and have the patient sign again.",
            )
        )
    if product is not None and (
        product.source is not plan.source or product.product_type is not plan.product_type
    ):
        failures.append(
            GuardFailure(
                Guard.CONSENT_SCOPE_PRODUCT,
                f"The product is {product.product_type.label}; the consent covers"
                f" {plan.product_type.label}.",
            )
        )
    return failures


def time_out_failures(
    *,
    target_site: str,
    laterality: Laterality,
    plan: TreatmentPlan | None,
    injection: InjectionRecord,
    product: Product | None,
    administered: int,
) -> list[GuardFailure]:
    """SITE-1: every way the injection as recorded differs from the episode and the consented
    plan, each named; empty when it is the procedure the patient consented to."""
    failures = []
    time_out = injection.time_out
    if time_out is None or time_out.missing:
        missing = [item.label for item in time_out.missing] if time_out else ["every item"]
        failures.append(
            GuardFailure(
                Guard.TIME_OUT_INCOMPLETE,
                "Hold the time-out before the injection; not confirmed: " + "; ".join(missing),
            )
        )
    failures += consent_scope_failures(
        plan, administered, product.source if product else None, product
    )
    if plan is None:
        return failures
    targets: Sequence[str] = plan.targets
    region = region_of(target_site)
    for n, site in enumerate(injection.sites, start=1):
        if not any(same_target(site.target, planned) for planned in targets) or (
            region_of(site.target) is not region
        ):
            failures.append(
                GuardFailure(
                    Guard.WRONG_SITE,
                    f"Site {n}, {site.target!r}, is not a planned target ({', '.join(targets)}).",
                )
            )
        if site.laterality not in _SIDES[laterality]:
            failures.append(
                GuardFailure(
                    Guard.WRONG_SIDE,
                    f"Site {n} is recorded on the {site.laterality} side; the episode's"
                    f" target is {laterality.value.replace('_', ' ')}.",
                )
            )
    if injection.approach not in _APPROACHES[region]:
        failures.append(
            GuardFailure(
                Guard.WRONG_APPROACH,
                f"{injection.approach.label} does not reach a {region.replace('_', ' ')} target.",
            )
        )
    if injection.guidance is not plan.guidance:
        failures.append(
            GuardFailure(
                Guard.WRONG_GUIDANCE,
                f"The plan is under {plan.guidance.label}; the record says"
                f" {injection.guidance.label}.",
            )
        )
    return failures
