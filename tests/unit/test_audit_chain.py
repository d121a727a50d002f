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
    examine_chain,
    head_problems,
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


def problems_of(chain: list[SealedEntry]) -> tuple[str, ...]:
    return examine_chain(chain).problems


def first_named(chain: list[SealedEntry]) -> str:
    found = problems_of(chain)
    assert found, "the damage went unnoticed"
    return found[0]


def test_REC_1_an_untouched_chain_verifies() -> None:
    examined = examine_chain(chain_of(20))
    assert examined.problems == ()
    assert (examined.entries, examined.last_sequence) == (20, 20)
    assert head_problems(examined, 20, chain_of(20)[-1].hash) == []
    assert examine_chain([]).problems == ()
    assert head_problems(examine_chain([]), 0, GENESIS) == []


def test_REC_1_an_edited_entry_is_named_even_when_its_hash_is_left_alone() -> None:
    chain = chain_of(10)
    chain[6] = replace(chain[6], entry=replace(chain[6].entry, actor="someone else"))
    assert first_named(chain) == "entry 7 was changed after it was written (its hash does not fit)"


def test_REC_1_an_edited_entry_whose_hash_is_recomputed_breaks_the_next_one() -> None:
    chain = chain_of(10)
    forged = replace(chain[3].entry, outcome=AuditOutcome.DENIED)
    chain[3] = seal(forged, 4, chain[3].previous_hash)
    assert problems_of(chain) == ("entry 5 does not point at the entry before it",)


def test_REC_1_a_removed_entry_is_named_once_not_for_every_entry_after_it() -> None:
    chain = chain_of(10)
    del chain[4]
    assert problems_of(chain) == (
        "entry 5 missing: removed from the middle of the trail",
        "entry 6 does not point at the entry before it",
    )
    del chain[4:7]
    assert first_named(chain) == "entries 5-8 missing: removed from the middle of the trail"


def test_REC_1_an_inserted_or_repeated_entry_is_named() -> None:
    chain = chain_of(6)
    chain.insert(3, chain[2])
    assert "entry 3 appears again or out of order: a row was added" in problems_of(chain)


def test_REC_1_a_head_that_disagrees_with_the_last_entry_is_named() -> None:
    chain = chain_of(8)
    examined = examine_chain(chain[:6])  # the tail cut off, the head left alone
    assert head_problems(examined, 8, chain[-1].hash) == [
        "entries 7-8 missing from the end: the head says 8, the last entry is 6"
    ]
    examined = examine_chain(chain)  # rows appended without moving the head
    assert head_problems(examined, 6, chain[5].hash)[0].startswith("entries 7-8 lie beyond")
    assert head_problems(examined, 8, chain[6].hash) == [
        "the head's hash is not that of the last entry (8)"
    ]


@given(st.integers(1, 30), st.data())
def test_REC_1_changing_any_field_of_any_entry_is_found_at_that_entry(length, data) -> None:
    chain = chain_of(length)
    index = data.draw(st.integers(0, length - 1))
    field = data.draw(st.sampled_from(["actor", "resource_id", "reason", "detail", "occurred_at"]))
    value = START - timedelta(days=1) if field == "occurred_at" else "tampered"
    chain[index] = replace(chain[index], entry=replace(chain[index].entry, **{field: value}))
    assert first_named(chain).startswith(f"entry {index + 1} was changed")
