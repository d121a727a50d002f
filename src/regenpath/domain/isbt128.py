"""ISBT 128 Donation Identification Numbers (DIN) and their ISO/IEC 7064 MOD 37-2 check character.

ISBT-1 (ICCBBA ST-001 section 2.4.1; docs/rules.md): the DIN is 13 characters,
``appppyynnnnnn`` — the 5-character facility identification number (FIN, assigned by ICCBBA),
the 2-digit year and a 6-digit sequence. The flag characters that follow it on a barcode are
not part of the DIN. ISBT-2 (ST-001 section 2.4.3, Appendix A): the check character is ISO/IEC
7064 MOD 37-2 over the 13 characters, from the set ``0-9A-Z*``; it is printed in the
eye-readable text only, never encoded in the barcode. TRK-1 (21 CFR 1271.290(c)): the code is
made for tracking and carries no name, MRN or SSN — only facility, year and sequence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from regenpath.domain.errors import InvalidValue

CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
_VALUE = {character: value for value, character in enumerate(CHARSET)}
DIN_LENGTH = 13
MAX_SEQUENCE = 999_999

_FACILITY = re.compile(r"^[A-Z][A-Z0-9]{4}$")
_DIN = re.compile(r"^[A-Z][A-Z0-9]{4}[0-9]{2}[0-9]{6}$")


def check_character(din: str) -> str:
    """The ISO/IEC 7064 MOD 37-2 check character of a 13-character DIN (ISBT-2).

    ``p = 0; p = ((p + v) * 2) % 37`` for each character value ``v``, then the character at
    ``(38 - p) % 37``. The published test vector ``ABCDE27000069`` gives ``C``.
    """
    p = 0
    for character in din:
        try:
            value = _VALUE[character]
        except KeyError:
            raise InvalidValue("din", f"{character!r} is not an ISBT 128 character") from None
        p = ((p + value) * 2) % 37
    return CHARSET[(38 - p) % 37]


@dataclass(frozen=True, order=True)
class Din:
    """One donation identification number: facility, year (two digits) and sequence."""

    facility: str
    year: int
    sequence: int

    def __post_init__(self) -> None:
        if not _FACILITY.match(self.facility):
            raise InvalidValue(
                "facility", "a facility identification number is a letter and 4 letters or digits"
            )
        if not 0 <= self.year <= 99:
            raise InvalidValue("year", "the DIN year has two digits")
        if not 1 <= self.sequence <= MAX_SEQUENCE:
            raise InvalidValue("sequence", f"the DIN sequence runs from 1 to {MAX_SEQUENCE}")

    @property
    def code(self) -> str:
        """The 13 characters, as stored and as encoded in the barcode."""
        return f"{self.facility}{self.year:02d}{self.sequence:06d}"

    @property
    def check(self) -> str:
        return check_character(self.code)

    @property
    def eye_readable(self) -> str:
        """As printed under the barcode: facility, year, sequence, then the check character."""
        return f"{self.facility} {self.year:02d} {self.sequence:06d} {self.check}"

    def __str__(self) -> str:
        return self.code


def parse_din(text: str, field: str = "din") -> Din:
    """Read a DIN as typed or scanned: spaces ignored, the leading ``=`` of the barcode data
    identifier and two trailing flag digits tolerated, and a 14th character checked as the
    check character. Raises :class:`InvalidValue` naming ``field`` when it is not a DIN or
    its check character does not match (a mistyped or misread code)."""
    cleaned = re.sub(r"\s+", "", text).upper().removeprefix("=")
    if len(cleaned) == DIN_LENGTH + 2 and cleaned[DIN_LENGTH:].isdigit():
        cleaned = cleaned[:DIN_LENGTH]  # scanned with its flag characters
    code, given_check = cleaned[:DIN_LENGTH], cleaned[DIN_LENGTH:]
    if not _DIN.match(code) or len(given_check) > 1:
        raise InvalidValue(field, f"{text!r} is not a 13-character ISBT 128 DIN")
    din = Din(code[:5], int(code[5:7]), int(code[7:]))
    if given_check and given_check != din.check:
        raise InvalidValue(
            field, f"the check character {given_check!r} does not match {code} (mistyped?)"
        )
    return din
