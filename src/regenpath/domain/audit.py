"""The audit trail as a hash chain: each entry seals the one before it.

REC-1 (21 CFR 1271.270(a)): records are made when each step is done, with who did it and when,
and are indelible. Here every entry carries the SHA-256 of its predecessor's hash plus its own
content, so changing, removing or reordering any stored entry breaks every hash after it, and
:func:`examine_chain` names each entry that no longer fits.
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


# Enough to show where and how a trail was damaged; a wholesale rewrite needs no list of 10^6.
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class ChainExamination:
    """What a full pass over the stored entries found, before comparing with the head."""

    entries: int
    last_sequence: int
    last_hash: str
    problems: tuple[str, ...]


def examine_chain(chain: Iterable[SealedEntry]) -> ChainExamination:
    """Walk every stored entry once, in sequence order, and name each place it does not fit:
    a gap (entries missing), a sequence seen again or out of order (rows added), an entry
    that does not point at its predecessor, and one whose hash is not that of its content.

    After a gap the walk goes on from the entry found, so one missing row is one problem,
    not one per entry after it.
    """
    problems: list[str] = []
    count, expected_sequence, previous_hash = 0, 1, GENESIS
    last_sequence, last_hash = 0, GENESIS

    def problem(text: str) -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append(text)

    for sealed in chain:
        count += 1
        sequence = sealed.sequence
        if sequence > expected_sequence:
            missing = (
                f"entry {expected_sequence}"
                if sequence == expected_sequence + 1
                else f"entries {expected_sequence}-{sequence - 1}"
            )
            problem(f"{missing} missing: removed from the middle of the trail")
        elif sequence < expected_sequence:
            problem(f"entry {sequence} appears again or out of order: a row was added")
        if sealed.previous_hash != previous_hash and sequence >= expected_sequence:
            problem(f"entry {sequence} does not point at the entry before it")
        if sealed.hash != entry_hash(sealed.entry, sequence, sealed.previous_hash):
            problem(f"entry {sequence} was changed after it was written (its hash does not fit)")
        expected_sequence = max(expected_sequence, sequence + 1)
        previous_hash = sealed.hash
        last_sequence, last_hash = sequence, sealed.hash
    return ChainExamination(count, last_sequence, last_hash, tuple(problems))


def head_problems(examined: ChainExamination, head_sequence: int, head_hash: str) -> list[str]:
    """Where the chain's head (the sequence and hash written with every append) disagrees
    with the last stored entry or with the number of entries: a tail cut off, rows added
    after the last append, or a head moved by hand."""
    problems = []
    if head_sequence > examined.last_sequence:
        problems.append(
            f"entries {examined.last_sequence + 1}-{head_sequence} missing from the end: the"
            f" head says {head_sequence}, the last entry is {examined.last_sequence}"
        )
    elif head_sequence < examined.last_sequence:
        problems.append(
            f"entries {head_sequence + 1}-{examined.last_sequence} lie beyond the head"
            f" ({head_sequence}): rows were added outside the application"
        )
    elif head_hash != examined.last_hash:
        problems.append(f"the head's hash is not that of the last entry ({examined.last_sequence})")
    if examined.entries != head_sequence and not problems and not examined.problems:
        problems.append(f"{examined.entries} entries stored where the head counts {head_sequence}")
    return problems
