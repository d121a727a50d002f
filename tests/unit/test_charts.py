"""The trajectory chart: an SVG with the MCID band around the baseline, gaps for the time
points without answers, and the same bytes for the same data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from regenpath.adapters.charts import (
    FlowBox,
    RateBars,
    SurvivalCurve,
    Trajectory,
    flow_svg,
    rate_bars_svg,
    survival_svg,
    trajectory_svg,
)

BACK_PAIN = Trajectory(
    title="Back pain",
    labels=["Before", "2 weeks", "6 weeks", "3 months"],
    values=[7.0, 5.0, None, 3.0],
    score_range=(0.0, 10.0),
    lower_is_better=True,
    baseline=7.0,
    mcid=2.0,
)


def test_the_chart_is_svg_with_its_title_band_and_baseline_in_words() -> None:
    svg = trajectory_svg(BACK_PAIN)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = "".join(root.itertext())
    assert "Back pain (lower is better)" in texts
    assert "no important change (within 2 of before)" in texts
    assert "before treatment: 7" in texts
    assert "6 weeks" in texts  # the missed time point keeps its place on the axis


def test_the_same_data_draws_the_same_bytes() -> None:
    assert trajectory_svg(BACK_PAIN) == trajectory_svg(BACK_PAIN)


def test_without_a_baseline_there_is_no_band_to_draw() -> None:
    rmdq = Trajectory(
        title="RMDQ",
        labels=["Before", "2 weeks"],
        values=[None, 9.0],
        score_range=(0.0, 24.0),
        lower_is_better=True,
    )
    texts = "".join(ET.fromstring(trajectory_svg(rmdq)).itertext())
    assert "no important change" not in texts and "check-ins" in texts


def test_rate_bars_mark_a_missing_figure_instead_of_drawing_zero() -> None:
    svg = rate_bars_svg(
        RateBars(
            title="Responders",
            labels=["2 weeks", "24 months"],
            series=[("worst case", [0.25, None], [0.1, None], [0.5, None])],
            notes=["due 12", "due 0"],
        )
    )
    texts = "".join(ET.fromstring(svg).itertext())
    assert "n/a" in texts and "due 0" in texts


def test_the_survival_curve_prints_its_band_and_numbers_at_risk() -> None:
    svg = survival_svg(
        SurvivalCurve(
            title="Durability",
            times=[3.0, 7.5],
            survival=[0.9, 0.6],
            lower=[0.7, None],
            upper=[0.98, None],
            at_risk_times=[0, 6, 12],
            at_risk=[20, 14, 3],
            band="log-log",
        )
    )
    texts = "".join(ET.fromstring(svg).itertext())
    assert "95 % band (log-log)" in texts and "14" in texts


def test_the_flow_shows_each_step_and_why_others_stopped() -> None:
    svg = flow_svg([FlowBox("referred", 10, ["withdrawn: 2"]), FlowBox("treated", 8, [])])
    texts = "".join(ET.fromstring(svg).itertext())
    assert "n = 10" in texts and "withdrawn: 2" in texts
