"""Chain of custody: every handover and move of a product, and the product's timeline.

COI-1 (docs/rules.md; Standards Coordinating Body): the chain of custody records every
transfer of, and control over, the product from starting material to delivery, modelled as
``CustodyEvent(product_id, from, to, location, ts, temp, signer)``. REC-1 (21 CFR 1271.270(a)):
records are made when each step is done, with who did it and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from regenpath.domain.errors import InvalidValue, refuse_future

_TEMPERATURE_RANGE = (-200.0, 60.0)  # liquid nitrogen vapour to a hot room, in degrees Celsius


class CustodyKind(StrEnum):
    COLLECTED = "collected"
    HANDOVER = "handover"
    RECEIVED = "received"
    STORED = "stored"
    MOVED = "moved"
    ISSUED = "issued"
    ADMINISTERED = "administered"
    DISCARDED = "discarded"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True)
class CustodyEvent:
    id: UUID
    product_id: UUID
    kind: CustodyKind
    from_party: str | None
    to_party: str
    location: str
    occurred_at: datetime
    recorded_by: str
    temperature_c: float | None = None


def custody_event(
    *,
    id: UUID,
    product_id: UUID,
    collected_at: datetime,
    kind: CustodyKind,
    from_party: str | None,
    to_party: str,
    location: str,
    occurred_at: datetime,
    recorded_by: str,
    now: datetime,
    temperature_c: float | None = None,
) -> CustodyEvent:
    """A custody event, refused when it could not have happened.

    Nothing happens to a product before it was collected, nor in the future; the temperature
    is within what storage can physically be.
    """
    if occurred_at < collected_at:
        raise InvalidValue(
            "occurred_at",
            "dated before the product was collected "
            f"({collected_at.isoformat(timespec='minutes')})",
        )
    refuse_future("occurred_at", occurred_at, now, "a custody event")
    if not to_party.strip():
        raise InvalidValue("to_party", "say who holds the product now")
    if not location.strip():
        raise InvalidValue("location", "say where the product is")
    low, high = _TEMPERATURE_RANGE
    if temperature_c is not None and not low <= temperature_c <= high:
        raise InvalidValue(
            "temperature_c", f"a storage temperature is between {low:g} and {high:g} C"
        )
    return CustodyEvent(
        id=id,
        product_id=product_id,
        kind=kind,
        from_party=(from_party or "").strip() or None,
        to_party=to_party.strip(),
        location=location.strip(),
        occurred_at=occurred_at,
        recorded_by=recorded_by,
        temperature_c=temperature_c,
    )


@dataclass(frozen=True)
class TimelineItem:
    """One line of a product's timeline, whatever record it comes from."""

    at: datetime
    kind: str  # custody, processing, qc, signature, verification, recall
    title: str
    detail: str
    who: str


def product_timeline(items: list[TimelineItem]) -> list[TimelineItem]:
    """Oldest first; records made at the same instant keep the order they were given in."""
    return sorted(items, key=lambda item: item.at)
