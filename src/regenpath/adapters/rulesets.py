"""Data shipped with the package: eligibility rulesets (or a clinic's own) and the adverse-
event catalogue, read from their TOML files."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from regenpath.domain.eligibility import Ruleset, parse_ruleset
from regenpath.domain.errors import InvalidValue
from regenpath.domain.safety import AeCatalogue, parse_ae_catalogue

DEFAULT_RULESET = "orthobiologic-2026.1.toml"
AE_CATALOGUE = "ae-catalogue-2026.1.toml"


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


def load_ae_catalogue() -> AeCatalogue:
    """The shipped adverse-event catalogue (AE-5)."""
    path = resources.files("regenpath.data").joinpath("safety", AE_CATALOGUE)
    return parse_ae_catalogue(tomllib.loads(path.read_text(encoding="utf-8")))
