"""Clinical codes, matched by code and never by display text (DESIGN.md section 4)."""

from __future__ import annotations

import re

from regenpath.domain.errors import InvalidValue

# ICD-10-CM: a letter, two characters, then an optional dot and up to four more (CDC FY2025
# tabular list conventions). Matching codes, never display text, is a DESIGN.md convention.
_ICD10CM = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


def icd10cm_code(text: str, field: str = "condition_code") -> str:
    """The code in its stored form (upper case, no spaces); anything else is refused."""
    code = text.strip().upper()
    if not _ICD10CM.match(code):
        raise InvalidValue(field, f"{text!r} is not an ICD-10-CM code")
    return code
