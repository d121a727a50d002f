"""The ports the use cases need: repositories, the Unit of Work, the clock.

Adapters implement them (``adapters/db`` for SQL, ``tests/unit/fakes.py`` in memory). Every
repository is built for one :class:`AccessScope`, so no query can reach outside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar
from uuid import UUID

from regenpath.domain.audit import AuditEntry, SealedEntry
from regenpath.domain.episodes import Episode
from regenpath.domain.pathway import Stage
from regenpath.domain.patients import Clinic, Patient
from regenpath.domain.products import BedsideVerification, Product

T = TypeVar("T")

IdFactory = Callable[[], UUID]


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class AccessScope:
    """Who is asking, and the clinics they may see (``None``: every clinic, for the CLI and demo).

    ``actor`` is what the audit trail records as "who".
    """

    clinic_ids: frozenset[UUID] | None = None
    actor: str = "system"

    def allows(self, clinic_id: UUID) -> bool:
        return self.clinic_ids is None or clinic_id in self.clinic_ids


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class PatientQuery:
    clinic_id: UUID | None = None
    name: str | None = None
    mrn: str | None = None
    birth_date: date | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class EpisodeQuery:
    clinic_id: UUID | None = None
    stage: Stage | None = None
    patient_id: UUID | None = None
    open_only: bool = False
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class EpisodeSummary:
    """An episode with who it is for: one row of a worklist."""

    episode: Episode
    patient_name: str
    patient_mrn: str
    stage_since: datetime


@dataclass(frozen=True)
class TimelineEntry:
    """One transition in an episode's history: the chart's timeline."""

    episode_id: UUID
    from_stage: Stage
    to_stage: Stage
    occurred_at: datetime
    cycle_number: int | None
    reason: str | None
    events: list[dict[str, Any]] = field(default_factory=list)


class ClinicRepository(Protocol):
    def add(self, clinic: Clinic) -> None: ...
    def get(self, clinic_id: UUID) -> Clinic | None: ...
    def all(self) -> list[Clinic]: ...


class PatientRepository(Protocol):
    def add(self, patient: Patient) -> None: ...
    def get(self, patient_id: UUID) -> Patient | None: ...
    def get_by_mrn(self, clinic_id: UUID, mrn: str) -> Patient | None: ...
    def update(self, patient: Patient, expected_version: int, now: datetime) -> None:
        """Write the patient if it is still at ``expected_version``; raise StaleVersion if not."""
        ...

    def search(self, query: PatientQuery) -> Page[Patient]: ...


class EpisodeRepository(Protocol):
    def add(self, episode: Episode) -> None: ...
    def get(self, episode_id: UUID) -> Episode | None: ...
    def save(self, episode: Episode, expected_version: int, change: TimelineEntry) -> None:
        """Write the episode and its cycles if still at ``expected_version``, with the change.

        Raises StaleVersion when another writer got there first; nothing is written then.
        """
        ...

    def find(self, query: EpisodeQuery) -> Page[EpisodeSummary]: ...
    def for_patient(self, patient_id: UUID) -> list[Episode]: ...
    def count_by_stage(self, clinic_id: UUID | None = None) -> dict[Stage, int]: ...
    def timeline(self, episode_id: UUID) -> list[TimelineEntry]: ...


class ProductRepository(Protocol):
    def add(self, product: Product) -> None: ...
    def get(self, product_id: UUID) -> Product | None: ...
    def save(self, product: Product) -> None: ...
    def available_donor_products(self, clinic_id: UUID) -> list[Product]: ...
    def add_verification(self, verification: BedsideVerification) -> None: ...
    def latest_verification(self, product_id: UUID) -> BedsideVerification | None: ...


class AuditLog(Protocol):
    def append(self, entry: AuditEntry) -> SealedEntry: ...
    def chain(self, batch: int = 5_000) -> Iterator[SealedEntry]: ...
    def head(self) -> tuple[int, str]:
        """The sequence and hash the chain's head row says the last entry has."""
        ...


class UnitOfWork(Protocol):
    """One transaction: everything done through its repositories commits together or not at all."""

    scope: AccessScope

    @property
    def clinics(self) -> ClinicRepository: ...
    @property
    def patients(self) -> PatientRepository: ...
    @property
    def episodes(self) -> EpisodeRepository: ...
    @property
    def products(self) -> ProductRepository: ...
    @property
    def audit(self) -> AuditLog: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
