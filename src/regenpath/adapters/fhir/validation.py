"""Checking every incoming resource: structure by the maintained R4B models of
``fhir.resources``, then regenpath's own checks for the codes whose value sets it owns.

The R4B models check cardinality, data types, unknown elements and formats, but not required
code bindings (the FHIR R4 specification: ``status: "done"`` passes), so the bindings the pathway
relies on are checked here. A failure names the element as a FHIRPath expression.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from regenpath.adapters.fhir import systems


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome issue (FHIR R4 issue-type codes)."""

    code: str
    diagnostics: str
    expression: str | None = None
    severity: str = "error"


@dataclass
class FhirError(Exception):
    """A request the server refuses, as the OperationOutcome and HTTP status to answer with."""

    status: int
    issues: list[Issue] = field(default_factory=list)

    @classmethod
    def one(cls, status: int, code: str, diagnostics: str, expression: str | None = None) -> Any:
        return cls(status, [Issue(code, diagnostics, expression)])

    def __str__(self) -> str:
        return "; ".join(issue.diagnostics for issue in self.issues)


# Required bindings of the resources regenpath takes in or gives out (FHIR R4 value sets).
_STATUS_BINDINGS: Final[Mapping[str, Mapping[str, frozenset[str]]]] = {
    "Observation": {
        "status": frozenset(
            [
                "registered",
                "preliminary",
                "final",
                "amended",
                "corrected",
                "cancelled",
                "entered-in-error",
                "unknown",
            ]
        )
    },
    "QuestionnaireResponse": {
        "status": frozenset(["in-progress", "completed", "amended", "entered-in-error", "stopped"])
    },
    "Procedure": {
        "status": frozenset(
            [
                "preparation",
                "in-progress",
                "not-done",
                "on-hold",
                "stopped",
                "completed",
                "entered-in-error",
                "unknown",
            ]
        )
    },
    "Consent": {
        "status": frozenset(
            ["draft", "proposed", "active", "rejected", "inactive", "entered-in-error"]
        )
    },
    "Patient": {"gender": frozenset(["male", "female", "other", "unknown"])},
    "AdverseEvent": {"actuality": frozenset({"actual", "potential"})},
    "Questionnaire": {"status": frozenset({"draft", "active", "retired", "unknown"})},
}


def parse(body: bytes | str) -> dict[str, Any]:
    """The request body as a JSON object; anything else is a 400 naming why."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise FhirError.one(400, "structure", f"the body is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise FhirError.one(400, "structure", "the body must be one JSON object, a resource")
    return value


def _expression(resource_type: str, location: Iterable[Any]) -> str:
    path = resource_type
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "resource_type":
            path += f".{part}"
        else:
            path += ".resourceType"
    return path


def validate(
    resource: Mapping[str, Any],
    expected_type: str | None = None,
    score_codes: frozenset[str] = frozenset(),
) -> None:
    """Raise :class:`FhirError` (400 for the wrong type, 422 otherwise) listing every issue.
    ``score_codes``: the codes of regenpath's score system the clinic's instruments define."""
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        raise FhirError.one(400, "structure", "resourceType is missing", "resourceType")
    if expected_type is not None and resource_type != expected_type:
        raise FhirError.one(
            400,
            "invalid",
            f"resourceType is {resource_type!r}, but this endpoint takes {expected_type}",
            "resourceType",
        )
    try:
        model = get_fhir_model_class(resource_type)
    except (ValueError, KeyError):
        raise FhirError.one(
            400, "not-supported", f"{resource_type!r} is not a FHIR R4 resource type"
        ) from None
    try:
        model.model_validate(resource)
    except ValidationError as error:
        raise FhirError(
            422,
            [
                Issue(
                    "structure" if item["type"] == "extra_forbidden" else "value",
                    f"{item['msg'].splitlines()[0]}",
                    _expression(resource_type, item["loc"]),
                )
                for item in error.errors()
            ],
        ) from None
    issues = list(_binding_issues(resource_type, resource, score_codes))
    if issues:
        raise FhirError(422, issues)


def _binding_issues(
    resource_type: str, resource: Mapping[str, Any], score_codes: frozenset[str]
) -> Iterable[Issue]:
    for element, allowed in _STATUS_BINDINGS.get(resource_type, {}).items():
        value = resource.get(element)
        if value is not None and value not in allowed:
            yield Issue(
                "code-invalid",
                f"{value!r} is not one of {', '.join(sorted(allowed))}",
                f"{resource_type}.{element}",
            )
    if _mentions_own_system(resource):
        yield from _own_codes(resource_type, resource, score_codes, resource_type)


def _mentions_own_system(resource: Mapping[str, Any]) -> bool:
    """A cheap first look: most resources from elsewhere use none of regenpath's systems."""
    return f"{systems.BASE}/CodeSystem/" in json.dumps(resource)


def _own_codes(
    resource_type: str, value: Any, score_codes: frozenset[str], path: str
) -> Iterable[Issue]:
    """A Coding in one of regenpath's code systems must carry a code from it."""
    if isinstance(value, Mapping):
        system = value.get("system")
        if isinstance(system, str) and system.startswith(f"{systems.BASE}/CodeSystem/"):
            code = value.get("code")
            if not isinstance(code, str) or not code.strip():
                yield Issue("code-invalid", f"a code from {system} needs its code", f"{path}.code")
            elif system == systems.SCORE and score_codes and code not in score_codes:
                yield Issue("code-invalid", f"{code!r} is not a regenpath score", f"{path}.code")
        for key, item in value.items():
            yield from _own_codes(resource_type, item, score_codes, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _own_codes(resource_type, item, score_codes, f"{path}[{index}]")
