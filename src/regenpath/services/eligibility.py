"""Use cases of the evaluation: the ruleset read on an assessment."""

from __future__ import annotations

from regenpath.domain.assessment import Assessment
from regenpath.domain.eligibility import Decision, Ruleset
from regenpath.domain.eligibility import evaluate as evaluate_rules
from regenpath.services.ports import Clock


def evaluate(ruleset: Ruleset, clock: Clock, assessment: Assessment) -> Decision:
    """Stateless: nothing is read or stored. "Today" is the UTC date: with no clinic, there is
    no other zone to take it from."""
    return evaluate_rules(assessment, ruleset, clock.now().date())
