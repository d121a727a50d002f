"""Eligibility as data: a versioned ruleset (EL-*, EX-* of docs/rules.md) read by
one pure function, :func:`evaluate`."""

from regenpath.domain.eligibility.engine import evaluate, parse_ruleset
from regenpath.domain.eligibility.model import (
    Decision,
    Finding,
    Rule,
    RuleKind,
    Ruleset,
    Verdict,
)

__all__ = [
    "Decision",
    "Finding",
    "Rule",
    "RuleKind",
    "Ruleset",
    "Verdict",
    "evaluate",
    "parse_ruleset",
]
