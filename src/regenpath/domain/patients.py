"""Patients and clinics as the pathway knows them."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from difflib import SequenceMatcher
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from regenpath.domain.errors import InvalidValue


class AdministrativeSex(StrEnum):
    """FHIR administrative-gender codes, so the FHIR mapping is one to one."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


# ID-2: names this alike (difflib's ratio over the normalised "family given") are one
# person's when birth date and sex agree: one typo or a swapped order still match.
NAME_LIKENESS = 0.85


def _letters(name: str) -> str:
    """A name for comparing: accents, case, punctuation and spacing aside."""
    plain = unicodedata.normalize("NFKD", name)
    return "".join(c for c in plain.casefold() if c.isalpha())


def probably_same_person(first: Patient, second: Patient) -> bool:
    """ID-2: a registration that probably repeats a record already there: the same birth date
    and sex, and a name alike (one typo, another order of the names, accents aside). A second
    record for one patient splits their history, so registration warns before it saves."""
    if first.birth_date != second.birth_date or first.sex is not second.sex:
        return False
    one = (_letters(first.family_name), _letters(first.given_name))
    other = (_letters(second.family_name), _letters(second.given_name))
    return any(
        SequenceMatcher(None, " ".join(one), " ".join(names)).ratio() >= NAME_LIKENESS
        for names in (other, other[::-1])
    )


def mrn_key(mrn: str) -> str:
    """The form an MRN is compared in: "new-0001", "NEW-0001" and "NEW 0001 " are one
    record number (ID-1: a clinic's MRNs are unique whatever the case and spacing, as the
    bedside check reads a wristband, BED-1), so a second registration cannot split one
    patient's record in two."""
    return "".join(mrn.split()).upper()


@dataclass
class Clinic:
    id: UUID
    name: str
    time_zone: str
    created_at: datetime
    phone: str | None = None  # what the portal tells a patient with a problem to call

    @classmethod
    def create(
        cls, *, id: UUID, name: str, time_zone: str, now: datetime, phone: str | None = None
    ) -> Clinic:
        if not name.strip():
            raise InvalidValue("name", "a clinic needs a name")
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidValue("time_zone", f"{time_zone!r} is not an IANA time zone") from None
        phone = phone.strip() if phone else None
        if phone is not None and len(phone) > MAX_PHONE_LENGTH:
            raise InvalidValue("phone", f"at most {MAX_PHONE_LENGTH} characters")
        return cls(id=id, name=name.strip(), time_zone=time_zone, created_at=now, phone=phone)


MAX_PHONE_LENGTH = 40


# What a correction of a patient record may change; the clinic and MRN identify the record.
CORRECTABLE_FIELDS = frozenset({"family_name", "given_name", "birth_date", "sex", "phone", "email"})


@dataclass
class Patient:
    id: UUID
    clinic_id: UUID
    mrn: str
    family_name: str
    given_name: str
    birth_date: date
    sex: AdministrativeSex
    created_at: datetime
    phone: str | None = None
    email: str | None = None
    version: int = 1

    @property
    def display_name(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name}"

    def age_on(self, day: date) -> int:
        """Completed years on ``day``."""
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def validate(self, today: date) -> None:
        """Invariants of a patient record; raises :class:`InvalidValue` naming the field."""
        if not self.mrn.strip():
            raise InvalidValue("mrn", "the medical record number is required")
        if not self.family_name.strip():
            raise InvalidValue("family_name", "the family name is required")
        if not self.given_name.strip():
            raise InvalidValue("given_name", "the given name is required")
        if self.birth_date > today:
            raise InvalidValue("birth_date", "the birth date is in the future")
        if self.birth_date.year < 1900:
            raise InvalidValue("birth_date", "the birth date is before 1900")
