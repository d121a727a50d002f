"""Charts drawn on the server by matplotlib, as SVG: pages show them as images, exports write
them to files. Only matplotlib's object API is used (no pyplot), so no global figure state is
shared between the requests a server handles at once."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib as mpl
from matplotlib.figure import Figure

INK = "#1d2733"
MUTED = "#5b6675"
ACCENT = "#0b6e69"
BAND = "#cfe3f5"
BASELINE = "#3b6ea8"


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
    # Text stays text (smaller, searchable), and the ids matplotlib writes are the same on
    # every run, so the same data gives the same bytes.
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "regenpath", "font.size": 9}):
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
