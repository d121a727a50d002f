"""Recording to the audit trail, and proving the trail intact.

Every read and write of patient data leaves an entry with who, what, when, which clinic and how
it ended (REC-1, 21 CFR 1271.270). A write's entry commits in the same transaction as the write,
so neither exists without the other; a refusal or failure is recorded in a transaction of its own
after the work rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar
from uuid import UUID

from regenpath.domain.audit import (
    AuditAction,
    AuditEntry,
    AuditOutcome,
    SealedEntry,
    examine_chain,
    head_problems,
)
from regenpath.domain.errors import DomainError, TransitionRefused
from regenpath.services.errors import LockedOut, NotFound, PermissionDenied, ServiceError
from regenpath.services.ports import AuditQuery, Clock, Page, UnitOfWork


def record(
    uow: UnitOfWork,
    clock: Clock,
    action: AuditAction,
    resource_type: str,
    resource_id: UUID | str | None,
    clinic_id: UUID | None,
    *,
    outcome: AuditOutcome = AuditOutcome.SUCCEEDED,
    reason: str | None = None,
    detail: str | None = None,
) -> None:
    """Append one entry inside the caller's open unit of work (the caller commits)."""
    uow.audit.append(
        AuditEntry(
            occurred_at=clock.now(),
            actor=uow.scope.actor,
            action=action,
            resource_type=resource_type,
            resource_id=str(resource_id) if resource_id is not None else None,
            clinic_id=clinic_id,
            outcome=outcome,
            reason=reason,
            detail=detail,
        )
    )


def record_search(
    uow: UnitOfWork,
    clock: Clock,
    resource_type: str,
    clinic_id: UUID | None,
    filters: dict[str, object],
    *,
    found: int,
) -> None:
    """A search is a read of every record it returns: record what was asked and how many came."""
    asked = ", ".join(f"{name}={value}" for name, value in filters.items() if value)
    record(
        uow,
        clock,
        AuditAction.SEARCH,
        resource_type,
        None,
        clinic_id,
        detail=f"{asked or 'everything'} -> {found} found",
    )


@contextmanager
def failures_recorded(
    uow: UnitOfWork,
    clock: Clock,
    action: AuditAction,
    resource_type: str,
    resource_id: UUID | str | None,
) -> Iterator[None]:
    """Record a refusal (``denied``) or a failure (``failed``) of the wrapped use case, then
    let the error go on to the caller. The wrapped work has rolled back by then."""
    try:
        yield
    except (DomainError, ServiceError) as error:
        refused = isinstance(error, TransitionRefused | PermissionDenied | LockedOut)
        with uow:
            record(
                uow,
                clock,
                action,
                resource_type,
                resource_id,
                None,
                outcome=AuditOutcome.DENIED if refused else AuditOutcome.FAILED,
                detail=f"{type(error).__name__}: {error}"[:2000],
            )
            uow.commit()
        raise


class ClinicRecord(Protocol):
    @property
    def id(self) -> UUID: ...

    @property
    def clinic_id(self) -> UUID: ...


Found = TypeVar("Found", bound=ClinicRecord)


def read_one(
    uow: UnitOfWork,
    clock: Clock,
    resource_type: str,
    resource_id: UUID,
    load: Callable[[], Found | None],
) -> Found:
    """One record read through ``load`` (a repository's ``get``, called inside the unit of
    work and scoped to the caller's clinics), recorded in the audit trail; a record outside
    the scope is "not found"."""
    with failures_recorded(uow, clock, AuditAction.READ, resource_type, resource_id), uow:
        found = load()
        if found is None:
            raise NotFound(resource_type, resource_id)
        record(uow, clock, AuditAction.READ, resource_type, found.id, found.clinic_id)
        uow.commit()
    return found


@dataclass(frozen=True)
class ChainReport:
    """What a walk of the trail found: every entry and the head compared; one line per
    problem."""

    entries: int
    head_sequence: int
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def check_storage(uow: UnitOfWork, *, quick: bool = False) -> tuple[str, ...]:
    """What the database says of the storage the trail lives in (SQLite's integrity check,
    PostgreSQL's append-only trigger); asked before the walk, which a damaged file can stop."""
    with uow:
        return tuple(uow.audit.storage_problems(quick=quick))


def verify_chain(uow: UnitOfWork, on_entry: Callable[[], None] = lambda: None) -> ChainReport:
    """Prove the whole trail, not only the rows a walk happens to read (REC-1): recompute
    every hash, name gaps and added rows, and compare the head (sequence and hash) with the
    last entry and the count with the sequence."""

    def counted() -> Iterator[SealedEntry]:
        for sealed in uow.audit.chain():
            on_entry()
            yield sealed

    with uow:
        # One read transaction: the head and the rows are the same moment's.
        examined = examine_chain(counted())
        head_sequence, head_hash = uow.audit.head()
    problems = (*examined.problems, *head_problems(examined, head_sequence, head_hash))
    return ChainReport(entries=examined.entries, head_sequence=head_sequence, problems=problems)


def search_audit(uow: UnitOfWork, clock: Clock, query: AuditQuery) -> Page[SealedEntry]:
    """The quality officer's search; looking at the trail is itself recorded in it."""
    with uow:
        page = uow.audit.search(query)
        record_search(
            uow,
            clock,
            "audit_trail",
            None,
            {
                "actor": query.actor,
                "action": query.action,
                "outcome": query.outcome,
                "resource_type": query.resource_type,
                "resource_id": query.resource_id,
                "since": query.since,
                "until": query.until,
            },
            found=len(page.items),
        )
        uow.commit()
    return page
