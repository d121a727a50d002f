"""Eligibility rulesets from their TOML files: the one shipped in the package, or a clinic's."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from regenpath.domain.eligibility import Ruleset, parse_ruleset
from regenpath.domain.errors import InvalidValue

DEFAULT_RULESET = "orthobiologic-2026.1.toml"


def load_ruleset(path: Path | None = None) -> Ruleset:
    """The ruleset at ``path``, else the shipped default; a file that is not valid TOML or
    not a valid ruleset is refused, naming where."""
    if path is None:
        text = resources.files("regenpath.data").joinpath("eligibility", DEFAULT_RULESET)
        content = text.read_text(encoding="utf-8")
    else:
        try:
            content = path.read_text(encoding="utf-8")
        except OSError as error:
            raise InvalidValue("eligibility_ruleset", f"cannot read {path}: {error}") from None
    try:
        data = tomllib.loads(content)
    except tomllib.TOMLDecodeError as error:
        raise InvalidValue("eligibility_ruleset", f"not valid TOML: {error}") from None
    return parse_ruleset(data)
