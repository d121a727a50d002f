"""Scoring of every instrument by its published rules, the missing-data boundaries included
(outcomes.md section 1), and properties: a score is always in range, valid answers never fail."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regenpath.adapters.rulesets import load_instruments
from regenpath.domain.errors import InvalidValue
from regenpath.domain.instruments import Instrument, InstrumentCode, odi_band, score
from regenpath.domain.responders import KOOS_SUBSCALES

LIBRARY = load_instruments()
NRS = LIBRARY[InstrumentCode.NRS_SPINE]
RMDQ = LIBRARY[InstrumentCode.RMDQ]
KOOS = LIBRARY[InstrumentCode.KOOS]
ODI = LIBRARY[InstrumentCode.ODI]
ODI_SECTIONS = [item.id for item in ODI.items]


def koos_items(subscale: str) -> list[str]:
    return [item.id for item in KOOS.items if item.subscale == subscale]


def test_the_shipped_instruments_have_their_published_item_counts() -> None:
    counts = {code: len(LIBRARY[code].items) for code in InstrumentCode}
    assert counts == {"nrs-spine": 2, "nrs-joint": 1, "rmdq": 24, "koos": 42, "odi": 10}
    assert {s.code: len(koos_items(s.code)) for s in KOOS.subscales} == {
        "symptoms": 7, "pain": 9, "adl": 17, "sport": 5, "qol": 4,
    }  # fmt: skip


def test_nrs_back_and_leg_are_two_observations_with_loinc_72514_3() -> None:
    result = score(NRS, {"back": 7, "leg": 3})
    assert result.values == {"back": 7.0, "leg": 3.0}
    assert {item.loinc for item in NRS.items} == {"72514-3"}


def test_nrs_refuses_eleven_naming_the_item() -> None:
    with pytest.raises(InvalidValue) as refused:
        score(NRS, {"back": 11})
    assert refused.value.field == "back"


def test_nrs_refuses_an_item_it_does_not_have() -> None:
    with pytest.raises(InvalidValue) as refused:
        score(NRS, {"neck": 3})
    assert refused.value.field == "neck"


def test_rmdq_counts_the_ticked_statements_and_unticked_score_no() -> None:
    answers = {str(n): 1 for n in range(1, 8)} | {"8": 0}
    result = score(RMDQ, answers)
    assert result.values == {"total": 7.0}
    assert len(result.missing) == 16  # unticked, scored "No", never prorated


def test_koos_subscale_is_100_minus_mean_times_25() -> None:
    answers = dict.fromkeys(koos_items("pain"), 2) | {"P1": 4}
    values = score(KOOS, answers).values
    mean = (2 * 8 + 4) / 9
    assert values["pain"] == pytest.approx(100 - mean * 100 / 4)


@pytest.mark.parametrize(
    ("subscale", "needed"), [("pain", 5), ("symptoms", 4), ("adl", 9), ("sport", 3), ("qol", 2)]
)
def test_koos_2012_rule_scores_from_half_the_items(subscale: str, needed: int) -> None:
    items = koos_items(subscale)
    enough = score(KOOS, dict.fromkeys(items[:needed], 1)).values[subscale]
    too_few = score(KOOS, dict.fromkeys(items[: needed - 1], 1))
    assert enough == 75.0
    assert too_few.values[subscale] is None
    assert f"at least {needed}" in too_few.not_scored[subscale]


def test_koos_two_boxes_ticked_take_the_more_severe() -> None:
    answers = dict.fromkeys(koos_items("qol"), 0) | {"Q1": [1, 3]}
    assert score(KOOS, answers).values["qol"] == 100 - (3 / 4) * 25


def test_odi_is_the_percentage_of_the_sections_answered() -> None:
    answers = dict.fromkeys(ODI_SECTIONS, 2)
    assert score(ODI, answers).values == {"total": 40.0}
    nine = dict.fromkeys(ODI_SECTIONS[:9], 3)
    assert score(ODI, nine).values["total"] == pytest.approx(27 / 45 * 100)  # unrounded


def test_odi_needs_nine_sections_by_default() -> None:
    eight = score(ODI, dict.fromkeys(ODI_SECTIONS[:8], 3))
    assert eight.values == {"total": None}
    assert "at least 9" in eight.not_scored["total"]


def test_odi_minimum_is_the_clinics_setting() -> None:
    lenient = load_instruments(odi_min_sections=8)[InstrumentCode.ODI]
    assert score(lenient, dict.fromkeys(ODI_SECTIONS[:8], 3)).values["total"] == 60.0


def test_odi_two_boxes_ticked_take_the_higher() -> None:
    answers = dict.fromkeys(ODI_SECTIONS, 0) | {"walking": [1, 4]}
    assert score(ODI, answers).values["total"] == pytest.approx(4 / 50 * 100)


def test_odi_bands_put_twenty_and_a_half_in_moderate() -> None:
    assert [odi_band(v) for v in (20, 20.5, 40, 60.1, 81)] == [
        "minimal", "moderate", "moderate", "crippled", "bed-bound or exaggerating",
    ]  # fmt: skip


def test_odi_ships_no_item_text_so_the_portal_leaves_it_out() -> None:
    assert all(item.text is None for item in ODI.items)
    assert not ODI.administrable
    from regenpath.domain.assessment import TargetRegion

    spine = [i.code for i in LIBRARY.for_region(TargetRegion.SPINE)]
    assert spine == [InstrumentCode.NRS_SPINE, InstrumentCode.RMDQ]


def test_a_clinics_licensed_odi_text_makes_it_administrable(tmp_path: Path) -> None:
    licensed = tmp_path / "odi.toml"
    licensed.write_text(
        "\n".join(
            f'[items.{section}]\ntext = "Section {section}"\n'
            f"options = {[f'statement {n}' for n in range(6)]}\n"
            for section in ODI_SECTIONS
        ),
        encoding="utf-8",
    )
    odi = load_instruments(licensed)[InstrumentCode.ODI]
    assert odi.administrable
    assert odi.items[0].options[5] == "statement 5"


def test_a_licensed_text_missing_a_section_is_refused(tmp_path: Path) -> None:
    licensed = tmp_path / "odi.toml"
    licensed.write_text('[items.pain_intensity]\ntext = "x"\noptions = ["a"]\n', "utf-8")
    with pytest.raises(InvalidValue):
        load_instruments(licensed)


def answer_sets(instrument: Instrument) -> st.SearchStrategy[dict[str, int | list[int]]]:
    """Any valid answer set: any subset of items, each one box or several."""
    return st.fixed_dictionaries(
        {},
        optional={
            item.id: st.one_of(
                st.integers(0, item.highest),
                st.lists(st.integers(0, item.highest), min_size=1, max_size=3),
            )
            for item in instrument.items
        },
    )


@pytest.mark.parametrize("code", list(InstrumentCode))
def test_valid_answers_never_fail_and_every_score_is_in_range(code: InstrumentCode) -> None:
    instrument = LIBRARY[code]
    low, high = instrument.score_range

    @given(answer_sets(instrument))
    def check(answers: dict[str, int | list[int]]) -> None:
        result = score(instrument, answers)
        for value in result.values.values():
            assert value is None or low <= value <= high

    check()


@given(st.sampled_from(ODI_SECTIONS), st.integers().filter(lambda n: not 0 <= n <= 5))
def test_a_box_an_item_does_not_have_is_refused_naming_it(section: str, value: int) -> None:
    with pytest.raises(InvalidValue) as refused:
        score(ODI, {section: value})
    assert refused.value.field == section


def test_each_score_has_a_name_in_words_for_charts_and_tables() -> None:
    titles = {
        code: [LIBRARY[code].score_title(n) for n in LIBRARY[code].score_names]
        for code in (InstrumentCode.NRS_SPINE, InstrumentCode.RMDQ, InstrumentCode.KOOS)
    }
    assert titles[InstrumentCode.NRS_SPINE] == ["Back pain", "Leg pain"]
    assert titles[InstrumentCode.RMDQ] == ["Roland-Morris Disability Questionnaire"]
    assert titles[InstrumentCode.KOOS][1] == "KOOS Pain"
    for code in InstrumentCode:  # the names are the ones score() gives
        instrument = LIBRARY[code]
        assert set(score(instrument, {}).values) == set(instrument.score_names)


def test_the_registry_keeps_a_column_for_each_koos_subscale() -> None:
    assert LIBRARY[InstrumentCode.KOOS].score_names == KOOS_SUBSCALES
