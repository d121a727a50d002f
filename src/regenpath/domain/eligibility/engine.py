"""Eligibility as data: a versioned ruleset read by one pure function.

``evaluate(assessment, ruleset, today)`` returns a decision with every finding, each naming its
rule (EL-*, EX-* of docs/rules.md), kind, message, source and the values behind it.
The thresholds live in the ruleset file, not here; this module holds what each rule *checks*.

The verdict, in order: any HARD exclusion -> ``ineligible`` (no override); any data a rule
needs but does not have -> ``needs_review`` naming the fields; any SOFT exclusion or unmet
inclusion -> ``ineligible``, which the physician may override with a reason and a signature;
otherwise ``eligible``. INFO and TASK findings inform and never decide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from regenpath.domain.assessment import Assessment
from regenpath.domain.eligibility.checks import CHECKS, parameter_fits
from regenpath.domain.eligibility.model import (
    Check,
    Decision,
    Finding,
    Rule,
    RuleKind,
    Ruleset,
    Verdict,
)
from regenpath.domain.errors import InvalidValue


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _shown(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "none"
    return "none" if value is None else value


def _finding(rule: Rule, check: Check) -> Finding:
    if check.missing:
        message = f"Needs {', '.join(check.missing)} to decide ({rule.id})."
    else:
        shown = {name: _shown(v) for name, v in {**rule.parameters, **check.values}.items()}
        message = rule.message.format_map(_Blank(shown))
    return Finding(
        rule_id=rule.id,
        kind=check.kind or rule.kind,
        message=message,
        source=rule.source,
        values=dict(check.values),
        missing=check.missing,
        plain=rule.plain or message,
    )


def evaluate(assessment: Assessment, ruleset: Ruleset, today: date) -> Decision:
    """Every rule of ``ruleset`` on ``assessment`` as of ``today``; see the module docstring."""
    assessment.refuse_future_dates(today)
    findings = []
    for rule in ruleset.rules:
        check = CHECKS[rule.id][0](assessment, rule.parameters, today)
        if check.applies and (check.triggered or check.missing):
            findings.append(_finding(rule, check))
    return Decision(_verdict(findings), tuple(findings), ruleset.version)


def _verdict(findings: Sequence[Finding]) -> Verdict:
    decided = [f for f in findings if not f.lacks_data]
    if any(f.kind is RuleKind.HARD for f in decided):
        return Verdict.INELIGIBLE
    if any(f.lacks_data for f in findings):
        return Verdict.NEEDS_REVIEW
    if any(f.kind in (RuleKind.SOFT, RuleKind.INCLUSION) for f in decided):
        return Verdict.INELIGIBLE
    return Verdict.ELIGIBLE


# --- Reading a ruleset -------------------------------------------------------------------------


def parse_ruleset(data: Mapping[str, Any]) -> Ruleset:
    """A ruleset from its file's content (TOML or JSON, already parsed); a rule the engine does
    not know, a missing or unknown parameter, or a parameter of the wrong type is refused,
    naming where it is."""
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise InvalidValue("version", "a ruleset names its version")
    rules: list[Rule] = []
    for index, entry in enumerate(data.get("rules") or []):
        rule = _parse_rule(f"rules[{index}]", entry)
        if any(r.id == rule.id for r in rules):
            raise InvalidValue(f"rules[{index}].id", f"{rule.id} is defined twice")
        rules.append(rule)
    if not rules:
        raise InvalidValue("rules", "a ruleset has at least one rule")
    return Ruleset(version, str(data.get("title", "")), tuple(rules))


def _parse_rule(where: str, entry: Mapping[str, Any]) -> Rule:
    rule_id = entry.get("id")
    if not isinstance(rule_id, str) or rule_id not in CHECKS:
        raise InvalidValue(f"{where}.id", f"{rule_id!r} is not a rule this engine checks")
    try:
        kind = RuleKind(str(entry.get("kind")))
    except ValueError:
        raise InvalidValue(f"{where}.kind", f"one of {', '.join(RuleKind)}") from None
    for name in ("message", "source"):
        if not isinstance(entry.get(name), str) or not entry[name].strip():
            raise InvalidValue(f"{where}.{name}", "required")
    plain = entry.get("plain", "")
    if not isinstance(plain, str):
        raise InvalidValue(f"{where}.plain", "text for a patient")
    return Rule(rule_id, kind, entry["message"], entry["source"], _parameters(where, entry), plain)


def _parameters(where: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    parameters = dict(entry.get("parameters") or {})
    expected = CHECKS[entry["id"]][1]
    if unknown := sorted(set(parameters) - set(expected)):
        raise InvalidValue(f"{where}.parameters", f"unknown: {', '.join(unknown)}")
    if absent := sorted(set(expected) - set(parameters)):
        raise InvalidValue(f"{where}.parameters", f"missing: {', '.join(absent)}")
    for name, value in parameters.items():
        if not parameter_fits(expected[name], value):
            raise InvalidValue(f"{where}.parameters.{name}", f"must be a {expected[name]}")
    return parameters
