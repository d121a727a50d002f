"""The care pathway as data: every stage and every allowed transition (DESIGN.md section 2).

An episode sits in exactly one stage. While it is being treated, its stage is the stage of its
current treatment cycle (planned ... recovery), so that one column answers "who is waiting for
what". The eligibility decision of the design's diagram is the pair of transitions
in_evaluation -> eligible | ineligible.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    REFERRED = "referred"
    IN_EVALUATION = "in_evaluation"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    CONSENTED = "consented"
    PLANNED = "planned"
    HARVESTED = "harvested"
    PROCESSED = "processed"
    RELEASED = "released"
    PRODUCT_ALLOCATED = "product_allocated"
    ADMINISTERED = "administered"
    RECOVERY = "recovery"
    FOLLOW_UP = "follow_up"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


# Stages in the order a patient meets them; the worklist shows them in this order.
PATHWAY_ORDER: tuple[Stage, ...] = tuple(Stage)

CLOSED_STAGES: frozenset[Stage] = frozenset({Stage.INELIGIBLE, Stage.COMPLETED, Stage.WITHDRAWN})
OPEN_STAGES: tuple[Stage, ...] = tuple(s for s in Stage if s not in CLOSED_STAGES)

# The stages that belong to a treatment cycle: the episode is "in treatment" while here.
CYCLE_STAGES: frozenset[Stage] = frozenset(
    {
        Stage.PLANNED,
        Stage.HARVESTED,
        Stage.PROCESSED,
        Stage.RELEASED,
        Stage.PRODUCT_ALLOCATED,
        Stage.ADMINISTERED,
        Stage.RECOVERY,
    }
)


@dataclass(frozen=True)
class Transition:
    source: Stage
    target: Stage
    action: str  # what the button says, in the clinic's words


_FORWARD: tuple[tuple[Stage, Stage, str], ...] = (
    (Stage.REFERRED, Stage.IN_EVALUATION, "Start evaluation"),
    (Stage.IN_EVALUATION, Stage.ELIGIBLE, "Decide eligible"),
    (Stage.IN_EVALUATION, Stage.INELIGIBLE, "Decide ineligible"),
    (Stage.ELIGIBLE, Stage.CONSENTED, "Record consent"),
    (Stage.CONSENTED, Stage.PLANNED, "Plan treatment cycle"),
    (Stage.PLANNED, Stage.HARVESTED, "Record harvest"),
    (Stage.HARVESTED, Stage.PROCESSED, "Record processing"),
    (Stage.PROCESSED, Stage.RELEASED, "Release product"),
    (Stage.PLANNED, Stage.PRODUCT_ALLOCATED, "Allocate donor product"),
    (Stage.RELEASED, Stage.ADMINISTERED, "Record injection"),
    (Stage.PRODUCT_ALLOCATED, Stage.ADMINISTERED, "Record injection"),
    (Stage.ADMINISTERED, Stage.RECOVERY, "Start recovery"),
    (Stage.RECOVERY, Stage.FOLLOW_UP, "Start follow-up"),
    (Stage.FOLLOW_UP, Stage.PLANNED, "Plan repeat cycle"),
    (Stage.FOLLOW_UP, Stage.COMPLETED, "Complete episode"),
    (Stage.FOLLOW_UP, Stage.LOST_TO_FOLLOW_UP, "Mark lost to follow-up"),
    (Stage.LOST_TO_FOLLOW_UP, Stage.FOLLOW_UP, "Patient returned"),
)

TRANSITIONS: dict[tuple[Stage, Stage], Transition] = {
    (source, target): Transition(source, target, action) for source, target, action in _FORWARD
} | {
    (source, Stage.WITHDRAWN): Transition(source, Stage.WITHDRAWN, "Withdraw")
    for source in OPEN_STAGES
}


def allowed_transitions(stage: Stage) -> list[Transition]:
    """The transitions the table allows from ``stage``, in table order (guards not evaluated)."""
    return [t for (source, _), t in TRANSITIONS.items() if source is stage]
