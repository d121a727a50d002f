"""Domain events: what a pathway transition did, for side effects that run after commit."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class DomainEvent:
    episode_id: UUID
    occurred_at: datetime

    @property
    def name(self) -> str:
        return type(self).__name__

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view: ``type`` plus the fields, UUIDs and times as strings."""
        payload: dict[str, Any] = {"type": self.name}
        for key, value in asdict(self).items():
            if isinstance(value, UUID):
                payload[key] = str(value)
            elif isinstance(value, datetime):
                payload[key] = value.isoformat()
            else:
                payload[key] = value
        return payload


@dataclass(frozen=True)
class EvaluationStarted(DomainEvent):
    pass


@dataclass(frozen=True)
class EligibilityDecided(DomainEvent):
    eligible: bool
    reason: str | None


@dataclass(frozen=True)
class EpisodeConsented(DomainEvent):
    pass


@dataclass(frozen=True)
class TreatmentCyclePlanned(DomainEvent):
    cycle_number: int
    cell_source: str


@dataclass(frozen=True)
class CellsHarvested(DomainEvent):
    cycle_number: int
    product_id: UUID


@dataclass(frozen=True)
class ProductProcessed(DomainEvent):
    cycle_number: int
    product_id: UUID


@dataclass(frozen=True)
class ProductReleased(DomainEvent):
    cycle_number: int
    product_id: UUID
    expires_at: datetime


@dataclass(frozen=True)
class ProductAllocated(DomainEvent):
    cycle_number: int
    product_id: UUID


@dataclass(frozen=True)
class ProductAdministered(DomainEvent):
    cycle_number: int
    product_id: UUID
    patient_id: UUID


@dataclass(frozen=True)
class RecoveryStarted(DomainEvent):
    cycle_number: int


@dataclass(frozen=True)
class FollowUpStarted(DomainEvent):
    pass


@dataclass(frozen=True)
class EpisodeCompleted(DomainEvent):
    pass


@dataclass(frozen=True)
class EpisodeWithdrawn(DomainEvent):
    from_stage: str
    reason: str


@dataclass(frozen=True)
class EpisodeLostToFollowUp(DomainEvent):
    reason: str | None


@dataclass(frozen=True)
class PatientReturnedToFollowUp(DomainEvent):
    pass
