"""Electronic signatures bound to what was signed (21 CFR Part 11 style).

21 CFR 11.50: a signed record shows the signer's printed name, the date and time, and the
meaning of the signature (review, approval, responsibility, authorship). 21 CFR 11.70: the
signature is linked to its record so it cannot be moved to another; here it carries the
SHA-256 of the signed content, and a record that changed afterwards shows the signature as
invalidated. 21 CFR 11.200(a): signing re-authenticates with the password (the service does).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID


class SignatureMeaning(StrEnum):
    AUTHORSHIP = "authorship"
    REVIEW = "review"
    APPROVAL = "approval"
    RESPONSIBILITY = "responsibility"


class SignatureStatus(StrEnum):
    VALID = "valid"
    INVALIDATED = "invalidated"  # the signed content changed after signing


@dataclass(frozen=True)
class Signature:
    id: UUID
    clinic_id: UUID
    resource_type: str
    resource_id: UUID
    signer_id: UUID
    printed_name: str
    meaning: SignatureMeaning
    signed_at: datetime
    content_hash: str
    statement: str | None = None

    def status(self, current_content: Mapping[str, Any]) -> SignatureStatus:
        if content_hash(current_content) == self.content_hash:
            return SignatureStatus.VALID
        return SignatureStatus.INVALIDATED


def content_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 of a canonical JSON of the content: key order and spacing do not matter."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
