"""FHIR R4 search over resources (dicts): the parameters regenpath supports, how each matches,
sorting and ``_include``. Pure: the server narrows by clinic and patient in SQL first, then
this module filters what is left (FHIR R4 section 3.1.1, "Search").

Semantics taken from the specification: several values of one parameter separated by commas
match any of them (OR); the same parameter repeated must match every time (AND); a date is a
range as wide as its precision, and ``gt``/``lt``/``ge``/``le``/``eq``/``ne`` compare ranges;
the old ``>``/``<`` prefixes that fhirclient still sends mean ``gt``/``lt`` (the FHIR R4
specification).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

from regenpath.adapters.fhir.validation import FhirError

Resource = dict[str, Any]


@dataclass(frozen=True)
class Param:
    kind: str  # token, reference, date, string, uri
    paths: tuple[str, ...]


def _p(kind: str, *paths: str) -> Param:
    return Param(kind, paths)


_SUBJECT = _p("reference", "subject")
COMMON: Final[Mapping[str, Param]] = {
    "_id": _p("id", "id"),
    "_lastUpdated": _p("date", "meta.lastUpdated"),
}
PARAMS: Final[Mapping[str, Mapping[str, Param]]] = {
    "Patient": {
        "identifier": _p("token", "identifier"),
        "family": _p("string", "name.family"),
        "given": _p("string", "name.given"),
        "name": _p("string", "name.family", "name.given", "name.text"),
        "birthdate": _p("date", "birthDate"),
        "gender": _p("token", "gender"),
        "organization": _p("reference", "managingOrganization"),
        "telecom": _p("token", "telecom"),
    },
    "Observation": {
        "subject": _SUBJECT,
        "patient": _SUBJECT,
        "code": _p("token", "code"),
        "date": _p("date", "effectiveDateTime", "effectivePeriod", "effectiveInstant"),
        "derived-from": _p("reference", "derivedFrom"),
        "status": _p("token", "status"),
        "category": _p("token", "category"),
    },
    "QuestionnaireResponse": {
        "subject": _SUBJECT,
        "patient": _SUBJECT,
        "questionnaire": _p("uri", "questionnaire"),
        "authored": _p("date", "authored"),
        "status": _p("token", "status"),
    },
    "Condition": {
        "subject": _SUBJECT,
        "patient": _SUBJECT,
        "code": _p("token", "code"),
        "recorded-date": _p("date", "recordedDate"),
        "onset-date": _p("date", "onsetDateTime", "onsetPeriod"),
        "clinical-status": _p("token", "clinicalStatus"),
    },
    "Procedure": {
        "subject": _SUBJECT,
        "patient": _SUBJECT,
        "code": _p("token", "code"),
        "date": _p("date", "performedDateTime", "performedPeriod"),
        "status": _p("token", "status"),
        "reason-reference": _p("reference", "reasonReference"),
    },
    "BiologicallyDerivedProduct": {"identifier": _p("token", "identifier")},
    "AdverseEvent": {
        "subject": _SUBJECT,
        "date": _p("date", "date"),
        "event": _p("token", "event"),
        "seriousness": _p("token", "seriousness"),
        "severity": _p("token", "severity"),
    },
    "Consent": {
        "patient": _p("reference", "patient"),
        "date": _p("date", "dateTime"),
        "status": _p("token", "status"),
    },
    "Organization": {"name": _p("string", "name"), "identifier": _p("token", "identifier")},
    "Practitioner": {"name": _p("string", "name.text", "name.family", "name.given")},
    "Questionnaire": {
        "url": _p("uri", "url"),
        "name": _p("string", "name"),
        "status": _p("token", "status"),
        "code": _p("token", "code"),
    },
}
# Parameters a search must understand or refuse; anything else is ignored (lenient handling,
# FHIR R4 3.1.1.4.1), as fhirpy's ``_totalMethod`` needs.
RESULT_PARAMS: Final = frozenset({"_count", "_offset", "_sort", "_include", "_total", "_format"})
DEFAULT_COUNT: Final = 50
MAX_COUNT: Final = 1000


def values(resource: Any, path: str) -> list[Any]:
    """The values at a dotted path, lists flattened on the way."""
    found = [resource]
    for step in path.split("."):
        nxt: list[Any] = []
        for item in found:
            if isinstance(item, Mapping) and step in item:
                value = item[step]
                nxt.extend(value if isinstance(value, list) else [value])
        found = nxt
    return found


def param(resource_type: str, name: str) -> Param | None:
    return COMMON.get(name) or PARAMS.get(resource_type, {}).get(name)


# ----------------------------------------------------------------------------- dates

_PREFIXES: Final = {"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"}
_LEGACY: Final = {">=": "ge", "<=": "le", ">": "gt", "<": "lt"}
_DATE: Final = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def date_range(text: str) -> tuple[datetime, datetime]:
    """The half-open interval a FHIR date, dateTime or instant covers (its precision)."""
    match = _DATE.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a FHIR date")
    year, month, mday, hour, minute, second, fraction, zone = match.groups()
    tz: timezone = UTC
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = zone[1:].split(":")
        tz = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    start = datetime(
        int(year),
        int(month or 1),
        int(mday or 1),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        int(float(fraction or 0) * 1_000_000),
        tzinfo=tz,
    ).astimezone(UTC)
    if month is None:
        end = start.replace(year=start.year + 1)
    elif mday is None:
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    elif hour is None:
        end = start + timedelta(days=1)
    elif second is None:
        end = start + timedelta(minutes=1)
    elif fraction is None:
        end = start + timedelta(seconds=1)
    else:
        end = start + timedelta(microseconds=1)
    return start, end


def _value_range(value: Any) -> tuple[datetime, datetime] | None:
    if isinstance(value, str):
        return date_range(value)
    if isinstance(value, Mapping) and ("start" in value or "end" in value):
        low = (
            date_range(value["start"])[0] if "start" in value else datetime.min.replace(tzinfo=UTC)
        )
        high = date_range(value["end"])[1] if "end" in value else datetime.max.replace(tzinfo=UTC)
        return low, high
    return None


Range = tuple[datetime, datetime]

# FHIR R4 3.1.1.4.2: how each prefix compares the searched range with the resource's range.
_DATE_TESTS: Final[Mapping[str, Callable[[Range, Range], bool]]] = {
    "eq": lambda w, h: w[0] <= h[0] and h[1] <= w[1],
    "ne": lambda w, h: not (w[0] <= h[0] and h[1] <= w[1]),
    "gt": lambda w, h: h[1] > w[1],
    "lt": lambda w, h: h[0] < w[0],
    "ge": lambda w, h: h[1] > w[1] or (w[0] <= h[0] and h[1] <= w[1]),
    "le": lambda w, h: h[0] < w[0] or (w[0] <= h[0] and h[1] <= w[1]),
    "sa": lambda w, h: h[0] >= w[1],
    "eb": lambda w, h: h[1] <= w[0],
    "ap": lambda w, h: h[0] < w[1] and w[0] < h[1],  # approximately: the ranges overlap
}


def _date_matches(prefix: str, wanted: Range, have: Range) -> bool:
    return _DATE_TESTS[prefix](wanted, have)


def _split_prefix(text: str) -> tuple[str, str]:
    for legacy, prefix in _LEGACY.items():
        if text.startswith(legacy):
            return prefix, text[len(legacy) :]
    if text[:2] in _PREFIXES and text[2:3].isdigit():
        return text[:2], text[2:]
    return "eq", text


# ------------------------------------------------------------------------------ match


@dataclass(frozen=True)
class Criterion:
    name: str
    param: Param
    modifier: str | None
    alternatives: tuple[str, ...]


def criteria(resource_type: str, query: Iterable[tuple[str, str]]) -> list[Criterion]:
    """The query's search criteria; unknown parameters are ignored, bad values refused."""
    found = []
    for key, raw in query:
        name, _, modifier = key.partition(":")
        if name in RESULT_PARAMS:
            continue
        definition = param(resource_type, name)
        if definition is None:
            continue
        if modifier and modifier not in {"missing", "exact", "contains", "not"}:
            raise FhirError.one(
                400, "not-supported", f"the modifier :{modifier} is not supported", key
            )
        alternatives = tuple(value for value in raw.split(",") if value != "")
        if definition.kind == "date" and modifier != "missing":
            for value in alternatives:
                try:
                    date_range(_split_prefix(value)[1])
                except ValueError:
                    raise FhirError.one(
                        400, "value", f"{value!r} is not a FHIR date", key
                    ) from None
        found.append(Criterion(name, definition, modifier or None, alternatives))
    return found


def matches(resource: Resource, criterion: Criterion) -> bool:
    present = [v for path in criterion.param.paths for v in values(resource, path)]
    if criterion.modifier == "missing":
        return (not present) == (criterion.alternatives[:1] == ("true",))
    hit = any(_one(criterion, alternative, present) for alternative in criterion.alternatives)
    return not hit if criterion.modifier == "not" else hit


def _one(criterion: Criterion, wanted: str, present: Sequence[Any]) -> bool:  # noqa: PLR0911 -- one return per parameter type
    kind = criterion.param.kind
    if kind == "id":
        return wanted in present
    if kind == "token":
        return any(_token_matches(wanted, value) for value in present)
    if kind == "reference":
        return any(_reference_matches(wanted, value) for value in present)
    if kind == "date":
        prefix, text = _split_prefix(wanted)
        window = date_range(text)
        ranges = (r for r in map(_value_range, present) if r is not None)
        return any(_date_matches(prefix, window, have) for have in ranges)
    if kind == "uri":
        return wanted in present or any(str(v).split("|")[0] == wanted for v in present)
    text = wanted.casefold()
    strings = [str(v).casefold() for v in present if isinstance(v, str)]
    if criterion.modifier == "exact":
        return wanted in [v for v in present if isinstance(v, str)]
    if criterion.modifier == "contains":
        return any(text in s for s in strings)
    return any(s.startswith(text) for s in strings)


def _codes(value: Any) -> Iterator[tuple[str | None, str | None]]:
    if isinstance(value, str):
        yield None, value
    elif isinstance(value, Mapping):
        if "coding" in value:
            for item in value["coding"]:
                yield item.get("system"), item.get("code")
        elif "value" in value and "code" not in value:  # Identifier, ContactPoint
            yield value.get("system"), value.get("value")
        else:
            yield value.get("system"), value.get("code")


def _token_matches(wanted: str, value: Any) -> bool:
    if "|" in wanted:
        system, _, code = wanted.partition("|")
        for have_system, have_code in _codes(value):
            if system == "" and have_system is None and have_code == code:
                return True
            if system and have_system == system and (code in ("", have_code)):
                return True
        return False
    return any(have_code == wanted for _, have_code in _codes(value))


def _reference_matches(wanted: str, value: Any) -> bool:
    have = value.get("reference") if isinstance(value, Mapping) else None
    if not isinstance(have, str):
        return False
    wanted = wanted.rstrip("/")
    if "/" in wanted:
        return have == wanted or wanted.endswith("/" + have) or have.endswith("/" + wanted)
    return have.rsplit("/", 1)[-1] == wanted


# ------------------------------------------------------------------------ sort, include


def sort(resource_type: str, resources: list[Resource], spec: str | None) -> list[Resource]:
    """``_sort=a,-b``: stable sorts from the last key to the first; missing values last."""
    ordered = sorted(resources, key=lambda r: r.get("id", ""))
    for key in reversed([k for k in (spec or "").split(",") if k]):
        descending = key.startswith("-")
        name = key.lstrip("-")
        definition = param(resource_type, name)
        if definition is None:
            raise FhirError.one(400, "not-supported", f"cannot sort by {name!r}", "_sort")

        def sort_key(resource: Resource, d: Param = definition) -> Any:
            return _sort_value(resource, d)

        with_value = [r for r in ordered if sort_key(r) is not None]
        without = [r for r in ordered if sort_key(r) is None]
        ordered = sorted(with_value, key=sort_key, reverse=descending) + without
    return ordered


def _sort_value(resource: Resource, definition: Param) -> Any:
    present = [v for path in definition.paths for v in values(resource, path)]
    if not present:
        return None
    first = present[0]
    if definition.kind == "date":
        found = _value_range(first)
        return found[0] if found else None
    if definition.kind in ("token", "reference"):
        codes = (
            list(_codes(first)) if definition.kind == "token" else [(None, first.get("reference"))]
        )
        return codes[0][1] if codes and codes[0][1] is not None else None
    return str(first)


def include_targets(
    resource_type: str, specs: Sequence[str], resources: Iterable[Resource]
) -> list[str]:
    """``_include=Observation:subject``: the references ("Type/id") to add to the page."""
    wanted: list[str] = []
    for spec in specs:
        parts = spec.split(":")
        if len(parts) < 2 or parts[0] != resource_type:
            continue
        definition = param(resource_type, parts[1])
        if definition is None or definition.kind != "reference":
            raise FhirError.one(400, "not-supported", f"cannot include {spec!r}", "_include")
        target = parts[2] if len(parts) > 2 else None
        for resource in resources:
            for path in definition.paths:
                for value in values(resource, path):
                    ref = value.get("reference") if isinstance(value, Mapping) else None
                    if (
                        isinstance(ref, str)
                        and "/" in ref
                        and (target is None or ref.startswith(target + "/"))
                    ) and ref not in wanted:
                        wanted.append(ref)
    return wanted


def count_of(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_COUNT
    try:
        value = int(raw)
    except ValueError:
        raise FhirError.one(
            400, "value", f"_count must be a whole number, not {raw!r}", "_count"
        ) from None
    if value < 0:
        raise FhirError.one(400, "value", "_count cannot be negative", "_count")
    return min(value, MAX_COUNT)
