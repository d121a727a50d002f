""" "What to expect" for the pages that show it: the pre-screen and the consent page."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from uuid import UUID

from regenpath.bootstrap import Application
from regenpath.domain.responders import age_band
from regenpath.services.outcomes import Expectation, expectation_for


def patients_like(
    app: Application,
    groups: Sequence[Mapping[str, str]],
    age: int,
    clinic_ids: Collection[UUID] | None = None,
) -> Expectation:
    """The clinic's figures for the narrowest group with enough patients: each of
    ``groups`` with the person's age band first, then without it."""
    candidates = [
        *({**group, "age_band": age_band(age)} for group in groups),
        *groups,
    ]
    source = app.outcome_data()
    try:
        return expectation_for(source, app.clock.now().date(), candidates, clinic_ids)
    finally:
        source.close()
