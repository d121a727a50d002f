"""Charts drawn on the server by matplotlib, as SVG: pages show them as images, exports write
them to files. Only matplotlib's object API is used (no pyplot), so no global figure state is
shared between the requests a server handles at once."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

INK = "#1d2733"
MUTED = "#5b6675"
ACCENT = "#0b6e69"
BAND = "#cfe3f5"
BASELINE = "#3b6ea8"


def _style() -> AbstractContextManager[None]:
    """Text stays text (smaller, searchable), and the ids matplotlib writes are the same on
    every run, so the same data gives the same bytes."""
    return mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "regenpath", "font.size": 9})


@dataclass(frozen=True)
class Trajectory:
    """One score at each time point of a schedule, against where the patient started.

    ``values`` line up with ``labels``; None is a time point with no answer (missed, or not
    answered yet), drawn as a gap, never joined over.
    """

    title: str
    labels: Sequence[str]
    values: Sequence[float | None]
    score_range: tuple[float, float]
    lower_is_better: bool
    baseline: float | None = None
    mcid: float | None = None


def trajectory_svg(trajectory: Trajectory, *, width: float = 4.4, height: float = 3.0) -> bytes:
    """A score's course over the time points, with the band of the minimal clinically important
    difference (MCID) around the baseline: a point outside the band is a change the patient
    would notice; inside it, no important change."""
    with _style():
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.add_subplot()
        low, high = trajectory.score_range
        positions = list(range(len(trajectory.labels)))
        if trajectory.baseline is not None:
            if trajectory.mcid is not None:
                axes.axhspan(
                    max(low, trajectory.baseline - trajectory.mcid),
                    min(high, trajectory.baseline + trajectory.mcid),
                    color=BAND,
                    label=f"no important change (within {trajectory.mcid:g} of before)",
                )
            axes.axhline(
                trajectory.baseline,
                color=BASELINE,
                linestyle="--",
                linewidth=1,
                label=f"before treatment: {trajectory.baseline:g}",
            )
        values = [math.nan if v is None else v for v in trajectory.values]
        axes.plot(positions, values, color=ACCENT, marker="o", linewidth=2, label="check-ins")
        for x, value in zip(positions, trajectory.values, strict=True):
            if value is not None:
                axes.annotate(
                    f"{value:.3g}",
                    (x, value),
                    textcoords="offset points",
                    xytext=(0, 6),
                    ha="center",
                    color=INK,
                    fontsize=8,
                )
        axes.set_xticks(positions, list(trajectory.labels), rotation=30, ha="right")
        axes.set_xlim(-0.5, max(len(positions) - 0.5, 0.5))
        margin = (high - low) * 0.08
        axes.set_ylim(low - margin, high + margin)
        better = "lower is better" if trajectory.lower_is_better else "higher is better"
        axes.set_title(f"{trajectory.title} ({better})", loc="left", color=INK)
        axes.spines[["top", "right"]].set_visible(False)
        axes.tick_params(colors=MUTED)
        axes.grid(axis="y", color="#e5e9ee", linewidth=0.6)
        axes.set_axisbelow(True)
        figure.legend(loc="outside lower center", ncols=2, fontsize=7, frameon=False)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


ANALYSIS_COLOURS = ("#0b6e69", "#a4260b", "#7a8ca3")


@dataclass(frozen=True)
class RateBars:
    """Rates with intervals: one group of bars per label, one bar per series."""

    title: str
    labels: Sequence[str]
    series: Sequence[
        tuple[str, Sequence[float | None], Sequence[float | None], Sequence[float | None]]
    ]
    # each series: (name, rates, lower limits, upper limits), as fractions; None: no figure
    notes: Sequence[str] = ()  # under each group, e.g. "n=41"


def rate_bars_svg(chart: RateBars, *, width: float = 7.0, height: float = 3.2) -> bytes:
    """Grouped bars in percent with their confidence intervals as error bars; a missing
    figure is left empty and marked "n/a", never drawn as zero."""
    with _style():
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.add_subplot()
        groups = np.arange(len(chart.labels))
        count = max(len(chart.series), 1)
        bar = 0.8 / count
        for index, (_name, rates, lowers, uppers) in enumerate(chart.series):
            x = groups - 0.4 + bar * (index + 0.5)
            colour = ANALYSIS_COLOURS[index % len(ANALYSIS_COLOURS)]
            for xi, rate, low, high in zip(x, rates, lowers, uppers, strict=True):
                if rate is None:
                    axes.text(xi, 2, "n/a", ha="center", fontsize=7, color=MUTED, rotation=90)
                    continue
                axes.bar(xi, rate * 100, width=bar * 0.92, color=colour)
                if low is not None and high is not None:
                    axes.errorbar(
                        xi,
                        rate * 100,
                        yerr=[[(rate - low) * 100], [(high - rate) * 100]],
                        color=INK,
                        capsize=2,
                        linewidth=0.8,
                    )
        ticks = [
            f"{label}\n{note}" if note else label
            for label, note in zip(
                chart.labels, [*chart.notes, *[""] * len(chart.labels)], strict=False
            )
        ]
        axes.set_xticks(groups, ticks)
        axes.set_ylim(0, 100)
        axes.set_ylabel("%")
        axes.set_title(chart.title, loc="left", color=INK)
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="y", color="#e5e9ee", linewidth=0.6)
        axes.set_axisbelow(True)
        if len(chart.series) > 1:
            handles = [
                Patch(color=ANALYSIS_COLOURS[i % len(ANALYSIS_COLOURS)], label=series[0])
                for i, series in enumerate(chart.series)
            ]
            figure.legend(
                handles=handles, loc="outside lower center", ncols=len(handles), frameon=False
            )
        return _svg(figure)


@dataclass(frozen=True)
class SurvivalCurve:
    title: str
    times: Sequence[float]  # event times, in months
    survival: Sequence[float]
    lower: Sequence[float | None]
    upper: Sequence[float | None]
    at_risk_times: Sequence[float]  # where the numbers at risk are printed
    at_risk: Sequence[int]
    band: str  # which band ("log-log"), said on the chart


def survival_svg(curve: SurvivalCurve, *, width: float = 7.0, height: float = 3.6) -> bytes:
    """A Kaplan-Meier step curve from 1 at time 0, its pointwise band, and the numbers at risk
    under the axis."""
    with _style():
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.add_subplot()
        times = [0.0, *curve.times]
        survival = [1.0, *curve.survival]
        lower = [1.0, *[np.nan if v is None else v for v in curve.lower]]
        upper = [1.0, *[np.nan if v is None else v for v in curve.upper]]
        end = max([*times, *curve.at_risk_times, 1.0])
        axes.fill_between(
            [*times, end], [*lower, lower[-1]], [*upper, upper[-1]], step="post", color=BAND,
            label=f"95 % band ({curve.band})",
        )  # fmt: skip
        axes.step([*times, end], [*survival, survival[-1]], where="post", color=ACCENT, linewidth=2,
                  label="still responding")  # fmt: skip
        axes.set_ylim(0, 1.05)
        axes.set_xlim(0, end)
        axes.set_xticks(
            list(curve.at_risk_times),
            [f"{t:g}\n{n}" for t, n in zip(curve.at_risk_times, curve.at_risk, strict=True)],
        )
        axes.set_xlabel("months after the injection (under each: number still at risk)")
        axes.set_title(curve.title, loc="left", color=INK)
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(color="#e5e9ee", linewidth=0.6)
        axes.legend(loc="lower left", fontsize=7, frameon=False)
        return _svg(figure)


@dataclass(frozen=True)
class FlowBox:
    title: str
    count: int
    aside: Sequence[str]  # why the others did not go on


def flow_svg(boxes: Sequence[FlowBox], *, width: float = 7.0) -> bytes:
    """The STROBE flow (von Elm et al., Lancet 2007, item 13c): boxes down the middle with
    their counts, and beside each the reasons the others stopped."""
    height = 0.75 * len(boxes) + 0.4
    with _style():
        figure = Figure(figsize=(width, height))
        axes = figure.add_axes((0, 0, 1, 1))
        axes.set_xlim(0, 10)
        axes.set_ylim(-len(boxes), 0.5)
        axes.axis("off")
        for row, box in enumerate(boxes):
            y = -row
            axes.text(
                2.6, y, f"{box.title}\nn = {box.count}", ha="center", va="center", fontsize=8,
                color=INK, bbox={"boxstyle": "round,pad=0.4", "facecolor": "#ffffff",
                                 "edgecolor": ACCENT},
            )  # fmt: skip
            if row + 1 < len(boxes):
                axes.annotate(
                    "", (2.6, y - 0.68), (2.6, y - 0.32),
                    arrowprops={"arrowstyle": "->", "color": MUTED},
                )  # fmt: skip
            if box.aside:
                axes.text(5.0, y, "\n".join(box.aside), ha="left", va="center", fontsize=7,
                          color=MUTED)  # fmt: skip
        return _svg(figure)
