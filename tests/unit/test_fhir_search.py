"""FHIR search semantics (adapters/fhir/search.py): date ranges and prefixes, tokens by system,
references, sorting, _include; with property tests for the date prefixes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regenpath.adapters.fhir import search
from regenpath.adapters.fhir.validation import FhirError


def observation(effective: str, code: str = "72514-3", system: str = "http://loinc.org") -> dict:
    return {
        "resourceType": "Observation",
        "id": effective,
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": effective,
    }


def hits(resources: list[dict], *query: tuple[str, str]) -> list[str]:
    criteria = search.criteria("Observation", query)
    return [r["id"] for r in resources if all(search.matches(r, c) for c in criteria)]


def test_a_date_is_a_range_as_wide_as_its_precision() -> None:
    assert search.date_range("2026") == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert search.date_range("2026-02")[1] == datetime(2026, 3, 1, tzinfo=UTC)
    assert search.date_range("2026-12")[1] == datetime(2027, 1, 1, tzinfo=UTC)
    start, end = search.date_range("2026-02-03T10:00:00+02:00")
    assert start == datetime(2026, 2, 3, 8, 0, tzinfo=UTC)
    assert end - start == timedelta(seconds=1)
    with pytest.raises(ValueError, match="not a FHIR date"):
        search.date_range("03/01/2026")


def test_prefixes_and_the_legacy_signs_fhirclient_sends() -> None:
    found = [observation(d) for d in ("2026-01-10", "2026-02-10", "2026-03-10T09:30:00Z")]
    assert hits(found, ("date", "gt2026-02-10")) == ["2026-03-10T09:30:00Z"]
    assert hits(found, ("date", ">2026-02-10")) == ["2026-03-10T09:30:00Z"]
    assert hits(found, ("date", ">=2026-02-10")) == ["2026-02-10", "2026-03-10T09:30:00Z"]
    assert hits(found, ("date", "lt2026-02-10")) == ["2026-01-10"]
    assert hits(found, ("date", "<2026-02")) == ["2026-01-10"]
    assert hits(found, ("date", "le2026-02-10")) == ["2026-01-10", "2026-02-10"]
    assert hits(found, ("date", "2026-03")) == ["2026-03-10T09:30:00Z"]
    assert hits(found, ("date", "ne2026-03")) == ["2026-01-10", "2026-02-10"]
    # Repeated = AND, comma = OR.
    assert hits(found, ("date", "ge2026-01-15"), ("date", "lt2026-03")) == ["2026-02-10"]
    assert hits(found, ("date", "2026-01,2026-03")) == ["2026-01-10", "2026-03-10T09:30:00Z"]


days = st.integers(min_value=0, max_value=2_000).map(
    lambda n: (datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=n)).date().isoformat()
)


@given(have=days, wanted=days)
def test_ge_is_gt_or_eq_and_le_is_lt_or_eq(have: str, wanted: str) -> None:
    resource = [observation(have)]

    def hit(prefix: str) -> bool:
        return bool(hits(resource, ("date", prefix + wanted)))

    assert hit("ge") == (hit("gt") or hit("eq"))
    assert hit("le") == (hit("lt") or hit("eq"))
    assert hit("eq") != hit("ne")
    assert hit("gt") == (have > wanted)
    assert hit("lt") == (have < wanted)


def test_tokens_match_by_system_and_code_never_by_display() -> None:
    found = [
        observation("a", "72514-3"),
        observation("b", "nrs-spine-back", "https://regenpath.org/fhir/CodeSystem/score"),
    ]
    found[0]["code"]["coding"][0]["display"] = "Pain severity"
    assert hits(found, ("code", "http://loinc.org|72514-3")) == ["a"]
    assert hits(found, ("code", "72514-3")) == ["a"]
    assert hits(found, ("code", "http://loinc.org|")) == ["a"]
    assert hits(found, ("code", "|72514-3")) == []  # no system in the data: none says so
    assert hits(found, ("code", "Pain severity")) == []
    assert hits(found, ("code:not", "http://loinc.org|72514-3")) == ["b"]


def test_references_with_or_without_the_type_and_absolute() -> None:
    found = [observation("a")]
    for value in ("Patient/p1", "p1", "https://host/fhir/R4/Patient/p1"):
        assert hits(found, ("subject", value)) == ["a"], value
    assert hits(found, ("patient", "Patient/p2")) == []


def test_unknown_parameters_are_ignored_and_unknown_modifiers_refused() -> None:
    assert hits([observation("a")], ("_totalMethod", "count"), ("colour", "red")) == ["a"]
    with pytest.raises(FhirError) as refused:
        search.criteria("Observation", [("code:above", "x")])
    assert refused.value.status == 400


def test_sort_ascending_descending_missing_last_and_include() -> None:
    found = [observation("2026-01-02"), observation("2026-01-03"), observation("2026-01-01")]
    del found[1]["effectiveDateTime"]
    assert [r["id"] for r in search.sort("Observation", found, "date")] == [
        "2026-01-01",
        "2026-01-02",
        "2026-01-03",
    ]
    assert [r["id"] for r in search.sort("Observation", found, "-date")][:2] == [
        "2026-01-02",
        "2026-01-01",
    ]
    with pytest.raises(FhirError):
        search.sort("Observation", found, "colour")
    assert search.include_targets("Observation", ["Observation:subject"], found) == ["Patient/p1"]
    assert search.include_targets("Observation", ["Patient:organization"], found) == []


def test_count_bounds() -> None:
    assert search.count_of(None) == search.DEFAULT_COUNT
    assert search.count_of("0") == 0
    assert search.count_of("100000") == search.MAX_COUNT
    for bad in ("-1", "ten"):
        with pytest.raises(FhirError):
            search.count_of(bad)
