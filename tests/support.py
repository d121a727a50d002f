"""Test helpers shared by every layer: a clock you can move, predictable ids."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from uuid import UUID

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class TestClock:
    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, now: datetime = START) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class SequentialIds:
    """UUIDs 1, 2, 3 ...: readable in a failing assertion."""

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)

    def __call__(self) -> UUID:
        return UUID(int=next(self._counter))
