"""REC-1 (21 CFR 1271.270): the audit trail is a hash chain; any change shows where it is."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from regenpath.domain.audit import (
    GENESIS,
    AuditAction,
    AuditEntry,
    AuditOutcome,
    SealedEntry,
    first_break,
    seal,
)
from tests.support import START


def entry(n: int) -> AuditEntry:
    return AuditEntry(
        occurred_at=START + timedelta(seconds=n),
        actor=f"user{n % 3}",
        action=AuditAction.READ,
        resource_type="patient",
        resource_id=str(UUID(int=n)),
        clinic_id=UUID(int=1),
        outcome=AuditOutcome.SUCCEEDED,
    )


def chain_of(length: int) -> list[SealedEntry]:
    chain: list[SealedEntry] = []
    for n in range(1, length + 1):
        chain.append(seal(entry(n), n, chain[-1].hash if chain else GENESIS))
    return chain


def test_REC_1_an_untouched_chain_verifies() -> None:
    assert first_break(chain_of(20)) is None
    assert first_break([]) is None


def test_REC_1_an_edited_entry_is_named_even_when_its_hash_is_left_alone() -> None:
    chain = chain_of(10)
    chain[6] = replace(chain[6], entry=replace(chain[6].entry, actor="someone else"))
    assert first_break(chain) == 7


def test_REC_1_an_edited_entry_whose_hash_is_recomputed_breaks_the_next_one() -> None:
    chain = chain_of(10)
    forged = replace(chain[3].entry, outcome=AuditOutcome.DENIED)
    chain[3] = seal(forged, 4, chain[3].previous_hash)
    assert first_break(chain) == 5


def test_REC_1_a_removed_entry_is_named() -> None:
    chain = chain_of(10)
    del chain[4]
    assert first_break(chain) == 6


@given(st.integers(1, 30), st.data())
def test_REC_1_changing_any_field_of_any_entry_is_found_at_that_entry(length, data) -> None:
    chain = chain_of(length)
    index = data.draw(st.integers(0, length - 1))
    field = data.draw(st.sampled_from(["actor", "resource_id", "reason", "detail", "occurred_at"]))
    value = START - timedelta(days=1) if field == "occurred_at" else "tampered"
    chain[index] = replace(chain[index], entry=replace(chain[index].entry, **{field: value}))
    assert first_break(chain) == index + 1
