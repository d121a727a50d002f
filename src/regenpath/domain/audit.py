"""The audit trail as a hash chain: each entry seals the one before it.

REC-1 (21 CFR 1271.270(a)): records are made when each step is done, with who did it and when,
and are indelible. Here every entry carries the SHA-256 of its predecessor's hash plus its own
content, so changing, removing or reordering any stored entry breaks every hash after it, and
:func:`first_break` names the first entry that no longer fits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

GENESIS = "0" * 64  # the "previous hash" of the first entry


class AuditOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    DENIED = "denied"  # a rule refused it (a guard, a permission)
    FAILED = "failed"  # it could not be done (not found, stale version, invalid input)


class AuditAction(StrEnum):
    READ = "read"
    SEARCH = "search"
    CREATE = "create"
    UPDATE = "update"
    TRANSITION = "transition"
    VERIFY = "verify"
    SIGN = "sign"
    LOGIN = "login"  # a password sign-in (web or e-signature re-authentication)
    LOGOUT = "logout"
    AUTHENTICATE = "authenticate"  # a request that presented a token or session
    REVOKE = "revoke"


@dataclass(frozen=True)
class AuditEntry:
    """Who did what to which record, when, in which clinic, and how it ended."""

    occurred_at: datetime
    actor: str
    action: AuditAction
    resource_type: str
    resource_id: str | None
    clinic_id: UUID | None
    outcome: AuditOutcome
    reason: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class SealedEntry:
    """An entry as stored: its place in the chain and the two hashes that bind it there."""

    sequence: int
    entry: AuditEntry
    previous_hash: str
    hash: str


def seal(entry: AuditEntry, sequence: int, previous_hash: str) -> SealedEntry:
    return SealedEntry(sequence, entry, previous_hash, entry_hash(entry, sequence, previous_hash))


def entry_hash(entry: AuditEntry, sequence: int, previous_hash: str) -> str:
    """SHA-256 over a canonical JSON of the previous hash, the sequence and every field."""
    canonical = json.dumps(
        [
            previous_hash,
            sequence,
            entry.occurred_at.isoformat(timespec="microseconds"),
            entry.actor,
            entry.action.value,
            entry.resource_type,
            entry.resource_id,
            str(entry.clinic_id) if entry.clinic_id else None,
            entry.outcome.value,
            entry.reason,
            entry.detail,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def first_break(chain: Iterable[SealedEntry]) -> int | None:
    """The sequence number of the first entry that does not fit the chain, or None if all fit.

    An entry does not fit when its sequence skips or repeats, when it does not point at its
    predecessor's hash, or when its own hash is not the hash of its content.
    """
    expected_previous = GENESIS
    expected_sequence = 1
    for sealed in chain:
        if (
            sealed.sequence != expected_sequence
            or sealed.previous_hash != expected_previous
            or sealed.hash != entry_hash(sealed.entry, sealed.sequence, sealed.previous_hash)
        ):
            return sealed.sequence
        expected_previous = sealed.hash
        expected_sequence += 1
    return None
