"""ID-1 and ID-2: one patient, one record. MRNs compare case and spaces aside; a registration
that looks like a patient already there (same birth date and sex, a name alike) is warned of."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from regenpath.domain.patients import (
    AdministrativeSex,
    Patient,
    mrn_key,
    probably_same_person,
)
from tests.support import START

HALE = Patient(
    id=UUID(int=1),
    clinic_id=UUID(int=2),
    mrn="RS-1",
    family_name="Hale",
    given_name="Avery",
    birth_date=date(1968, 4, 12),
    sex=AdministrativeSex.FEMALE,
    created_at=START,
)


def test_ID_1_an_mrn_is_compared_case_and_spaces_aside() -> None:
    assert mrn_key("new-0001") == mrn_key("NEW-0001") == mrn_key(" n e w -0001\t") == "NEW-0001"
    assert mrn_key("NEW-0001") != mrn_key("NEW0001-")


@given(st.text(min_size=1, max_size=20))
def test_ID_1_the_key_ignores_exactly_case_and_whitespace(mrn: str) -> None:
    assert mrn_key(mrn.lower()) == mrn_key(mrn.upper()) == mrn_key(f"  {mrn} ")
    assert not any(c.isspace() for c in mrn_key(mrn))


def test_ID_2_a_typo_another_order_or_accents_are_the_same_person() -> None:
    for family, given_name in (
        ("Hale", "Avery"),
        ("HALE", "avery"),
        ("Hael", "Avery"),  # one typo
        ("Avery", "Hale"),  # the names the other way round
        ("Hâle", "Avéry"),
    ):
        other = replace(HALE, id=UUID(int=3), family_name=family, given_name=given_name)
        assert probably_same_person(other, HALE), (family, given_name)


def test_ID_2_another_birth_date_sex_or_name_is_someone_else() -> None:
    assert not probably_same_person(replace(HALE, birth_date=date(1968, 4, 13)), HALE)
    assert not probably_same_person(replace(HALE, sex=AdministrativeSex.MALE), HALE)
    assert not probably_same_person(replace(HALE, family_name="Okafor", given_name="Ada"), HALE)
