"""Fixtures shared by every test layer."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# Property tests stay bounded on CI's two cores; locally, HYPOTHESIS_PROFILE=thorough digs deeper.
settings.register_profile("default", deadline=None)
settings.register_profile("thorough", max_examples=5_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _no_ambient_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's REGENPATH_* variables must not leak into what a test builds."""
    for name in list(os.environ):
        if name.startswith("REGENPATH_") and name != "REGENPATH_TEST_DATABASE_URL":
            monkeypatch.delenv(name, raising=False)
