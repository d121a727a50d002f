"""Patient-reported outcome instruments: their definitions (data files) and their scoring.

Scoring is pure and follows each instrument's published rules, missing data included
(docs/rules.md): pain NRS 0-10 item by item, RMDQ-24 as a count of statements
(Roland & Morris 1983), KOOS subscales with the 2012 missing-item rule (koos.nu), and ODI
v2.1a as a percentage of the sections answered (Fairbank & Pynsent 2000). An answer is the
value of the box ticked; a list is several boxes ticked in one item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from regenpath.domain.assessment import TargetRegion
from regenpath.domain.errors import InvalidValue


class InstrumentCode(StrEnum):
    NRS_SPINE = "nrs-spine"
    NRS_JOINT = "nrs-joint"
    RMDQ = "rmdq"
    KOOS = "koos"
    ODI = "odi"


class Scoring(StrEnum):
    EACH_ITEM = "each_item"  # every item is its own score (back pain and leg pain)
    COUNT = "count"  # the number of statements ticked (RMDQ)
    KOOS = "koos"  # subscales of 0-4 items, 100 = no problems
    ODI = "odi"  # percentage of the maximum of the sections answered


# Fairbank's scoring sheet: "in practice we rarely find responses to fewer than eight
# sections"; Awell Score refuses below 9. The clinic may lower it (ODI_MIN_SECTIONS setting).
DEFAULT_ODI_MIN_SECTIONS = 9

Answer = int | Sequence[int]
Answers = Mapping[str, Answer]


@dataclass(frozen=True)
class Item:
    id: str
    options: tuple[str, ...]  # the answer boxes; a box's value is its position, from 0
    text: str | None = None  # None: licensed text the clinic has not loaded
    subscale: str | None = None
    loinc: str | None = None
    optional: bool = False  # "if applicable" (ODI sex life): leaving it blank is an answer
    label: str | None = None  # what the item measures, where it is a score of its own

    @property
    def highest(self) -> int:
        return len(self.options) - 1


@dataclass(frozen=True)
class Subscale:
    code: str
    title: str
    min_answered: int


@dataclass(frozen=True)
class Instrument:
    code: InstrumentCode
    title: str
    version: str
    scoring: Scoring
    regions: frozenset[TargetRegion]
    items: tuple[Item, ...]
    lower_is_better: bool
    score_range: tuple[float, float]
    licence: str
    recall: str = ""
    subscales: tuple[Subscale, ...] = ()
    loinc: str | None = None
    score_loinc: str | None = None
    mcid: float | None = None
    mcid_source: str = ""
    licensed_text: bool = False
    odi_min_sections: int = DEFAULT_ODI_MIN_SECTIONS

    @property
    def administrable(self) -> bool:
        """Whether a patient can be shown it: every item has its text (ODI needs a licence)."""
        return all(item.text is not None for item in self.items)

    @property
    def score_names(self) -> tuple[str, ...]:
        """The names :func:`score` gives its values, in the instrument's order."""
        if self.scoring is Scoring.EACH_ITEM:
            return tuple(item.id for item in self.items)
        if self.scoring is Scoring.KOOS:
            return tuple(subscale.code for subscale in self.subscales)
        return ("total",)

    def score_title(self, name: str) -> str:
        """A score's name in words: "Back pain", "KOOS Pain", the instrument's title."""
        if self.scoring is Scoring.EACH_ITEM:
            return self.item(name).label or f"{self.title}: {name}"
        for subscale in self.subscales:
            if subscale.code == name:
                return f"KOOS {subscale.title}"
        return self.title

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise InvalidValue(item_id, f"{item_id!r} is not an item of {self.code}")

    def with_text(self, texts: Mapping[str, tuple[str, tuple[str, ...]]]) -> Instrument:
        """This instrument with licensed item text loaded: item id -> (question, boxes)."""
        items = []
        for item in self.items:
            if item.id not in texts:
                raise InvalidValue(item.id, f"the licensed text has no item {item.id!r}")
            question, boxes = texts[item.id]
            if len(boxes) != len(item.options):
                raise InvalidValue(item.id, f"{len(item.options)} answer statements expected")
            items.append(replace(item, text=question, options=boxes))
        return replace(self, items=tuple(items))


@dataclass(frozen=True)
class Score:
    """What an answer set scores: one value per score name, None where it may not be scored."""

    instrument: InstrumentCode
    values: dict[str, float | None]
    answered: int
    missing: tuple[str, ...] = ()
    not_scored: dict[str, str] = field(default_factory=dict)  # score name -> why not

    @property
    def complete(self) -> bool:
        return all(value is not None for value in self.values.values())


def checked_answers(instrument: Instrument, answers: Answers) -> dict[str, int]:
    """Each answered item's value, checked against its boxes; several boxes ticked in one item
    count as the highest, which is the more severe in every shipped instrument (ODI: "the
    highest scoring box is taken", Fairbank; KOOS: "the more severe").

    Raises InvalidValue naming the item for an unknown item or a box it does not have.
    """
    values: dict[str, int] = {}
    for item_id, answer in answers.items():
        item = instrument.item(item_id)
        ticked = [answer] if isinstance(answer, int) else list(answer)
        if not ticked:
            continue
        for value in ticked:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidValue(item_id, "an answer is the number of the box ticked")
            if not 0 <= value <= item.highest:
                raise InvalidValue(item_id, f"{value} is outside 0-{item.highest}")
        values[item_id] = max(ticked)
    return values


def score(instrument: Instrument, answers: Answers) -> Score:
    """Score an answer set by the instrument's published rules (see the module docstring)."""
    values = checked_answers(instrument, answers)
    missing = tuple(i.id for i in instrument.items if i.id not in values and not i.optional)
    if instrument.scoring is Scoring.EACH_ITEM:
        scores: dict[str, float | None] = {
            item.id: float(values[item.id]) if item.id in values else None
            for item in instrument.items
        }
        why = {name: "not answered" for name, value in scores.items() if value is None}
        return Score(instrument.code, scores, len(values), missing, why)
    if instrument.scoring is Scoring.COUNT:
        # RMDQ: an unticked statement scores "No"; nothing is prorated (Roland & Morris 1983).
        return Score(instrument.code, {"total": float(sum(values.values()))}, len(values), missing)
    if instrument.scoring is Scoring.KOOS:
        return _koos(instrument, values, missing)
    return _odi(instrument, values, missing)


def _koos(instrument: Instrument, values: dict[str, int], missing: tuple[str, ...]) -> Score:
    """KOOS 2012: a subscale needs at least half its items; then 100 - mean x 100/4."""
    scores: dict[str, float | None] = {}
    why: dict[str, str] = {}
    for subscale in instrument.subscales:
        answered = [
            values[i.id] for i in instrument.items if i.subscale == subscale.code and i.id in values
        ]
        if len(answered) < subscale.min_answered:
            scores[subscale.code] = None
            why[subscale.code] = (
                f"{len(answered)} items answered, at least {subscale.min_answered} needed"
            )
        else:
            scores[subscale.code] = 100 - sum(answered) / len(answered) * 100 / 4
    return Score(instrument.code, scores, len(values), missing, why)


def _odi(instrument: Instrument, values: dict[str, int], missing: tuple[str, ...]) -> Score:
    """ODI v2.1a: sum / (5 x sections answered) x 100, unrounded (Fairbank & Pynsent 2000);
    fewer sections answered than the clinic's minimum are not scored."""
    answered = len(values)
    if answered < instrument.odi_min_sections:
        why = {
            "total": f"{answered} sections answered, at least {instrument.odi_min_sections} needed"
        }
        return Score(instrument.code, {"total": None}, answered, missing, why)
    total = sum(values.values()) / (5 * answered) * 100
    return Score(instrument.code, {"total": total}, answered, missing)


def odi_band(value: float) -> str:
    """Fairbank's bands, with the PACIO sample IG's ``x <= 20`` edges for non-integer scores."""
    for upper, band in ((20, "minimal"), (40, "moderate"), (60, "severe"), (80, "crippled")):
        if value <= upper:
            return band
    return "bed-bound or exaggerating"


# -- definitions from their data files ----------------------------------------------------------


def parse_instrument(data: Mapping[str, object]) -> Instrument:
    """An instrument from its definition file's content; refuses a malformed one naming where."""
    try:
        code = InstrumentCode(str(data.get("code")))
        scoring = Scoring(str(data.get("scoring")))
    except ValueError as error:
        raise InvalidValue("code", str(error)) from None
    option_sets = data.get("option_sets")
    if not isinstance(option_sets, Mapping):
        raise InvalidValue(f"{code}.option_sets", "the answer boxes are required")
    raw_items = data.get("items")
    items: list[Item] = []
    for index, entry in enumerate(raw_items if isinstance(raw_items, list) else []):
        boxes = option_sets.get(str(entry.get("options")))
        if not isinstance(boxes, list) or len(boxes) < 2:
            raise InvalidValue(f"{code}.items[{index}].options", "names no option set")
        text = entry.get("text")
        items.append(
            Item(
                id=str(entry["id"]),
                options=tuple(str(box) for box in boxes),
                text=str(text) if text is not None else None,
                subscale=entry.get("subscale"),
                loinc=entry.get("loinc"),
                optional=bool(entry.get("optional", False)),
                label=entry.get("label"),
            )
        )
    if not items or len({item.id for item in items}) != len(items):
        raise InvalidValue(f"{code}.items", "at least one item, each with its own id")
    raw_subscales = data.get("subscales")
    subscales = tuple(
        Subscale(str(s["code"]), str(s["title"]), int(s["min_answered"]))
        for s in (raw_subscales if isinstance(raw_subscales, list) else [])
    )
    bounds = data.get("range")
    if not isinstance(bounds, list) or len(bounds) != 2:
        raise InvalidValue(f"{code}.range", "the lowest and highest score are required")
    low, high = float(bounds[0]), float(bounds[1])
    mcid = data.get("mcid")
    return Instrument(
        code=code,
        title=str(data.get("title", code)),
        version=str(data.get("version", "")),
        scoring=scoring,
        regions=frozenset(TargetRegion(r) for r in data.get("regions", ())),  # type: ignore[attr-defined]
        items=tuple(items),
        lower_is_better=bool(data.get("lower_is_better", True)),
        score_range=(low, high),
        licence=str(data.get("licence", "")),
        recall=str(data.get("recall", "")),
        subscales=subscales,
        loinc=_optional_str(data.get("loinc")),
        score_loinc=_optional_str(data.get("score_loinc")),
        mcid=float(mcid) if isinstance(mcid, int | float) else None,
        mcid_source=str(data.get("mcid_source", "")),
        licensed_text=bool(data.get("licensed_text", False)),
    )


def _optional_str(value: object) -> str | None:
    return str(value) if value else None


@dataclass(frozen=True)
class InstrumentLibrary:
    """The clinic's instruments, by code."""

    instruments: Mapping[InstrumentCode, Instrument]

    def __getitem__(self, code: InstrumentCode) -> Instrument:
        return self.instruments[code]

    def for_region(self, region: TargetRegion) -> list[Instrument]:
        """What a follow-up asks a patient treated in ``region``: administrable instruments
        only, so without the ODI's licensed text the portal offers the others."""
        return [
            instrument
            for instrument in self.instruments.values()
            if region in instrument.regions and instrument.administrable
        ]
