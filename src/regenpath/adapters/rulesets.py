"""Data shipped with the package: eligibility rulesets (or a clinic's own), the adverse-event
catalogue and the outcome instruments, read from their TOML files."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from importlib import resources
from pathlib import Path

from regenpath.domain.eligibility import Ruleset, parse_ruleset
from regenpath.domain.errors import InvalidValue
from regenpath.domain.instruments import (
    DEFAULT_ODI_MIN_SECTIONS,
    InstrumentCode,
    InstrumentLibrary,
    parse_instrument,
)
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


def load_instruments(
    odi_text: Path | None = None, odi_min_sections: int = DEFAULT_ODI_MIN_SECTIONS
) -> InstrumentLibrary:
    """The shipped instrument definitions; the ODI gets the clinic's licensed text from
    ``odi_text`` (a TOML file: ``[items.<section id>]`` with ``text`` and six ``options``)."""
    folder = resources.files("regenpath.data").joinpath("instruments")
    instruments = {}
    for code in InstrumentCode:
        content = folder.joinpath(f"{code.value}.toml").read_text(encoding="utf-8")
        instruments[code] = parse_instrument(tomllib.loads(content))
    odi = instruments[InstrumentCode.ODI]
    odi = replace(odi, odi_min_sections=odi_min_sections)
    if odi_text is not None:
        try:
            licensed = tomllib.loads(odi_text.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise InvalidValue("odi_text", f"cannot read {odi_text}: {error}") from None
        entries = licensed.get("items", {})
        odi = odi.with_text(
            {
                item_id: (str(entry.get("text", "")), tuple(map(str, entry.get("options", ()))))
                for item_id, entry in entries.items()
            }
        )
    instruments[InstrumentCode.ODI] = odi
    return InstrumentLibrary(instruments)
