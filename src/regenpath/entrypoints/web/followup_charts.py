"""The score charts of an episode's follow-up, for the staff page and the patient portal."""

from __future__ import annotations

from dataclasses import dataclass

from regenpath.adapters.charts import Trajectory, trajectory_svg
from regenpath.domain.followup import VisitStatus
from regenpath.entrypoints.web.rendering import svg_image
from regenpath.services.followup import FollowUpView

BEFORE = "Before"


@dataclass(frozen=True)
class ScoreChart:
    key: str  # "rmdq:total"
    title: str
    image: str  # data: URI of the SVG
    points: list[tuple[str, float | None]]  # the same values as a table, for screen readers
    mcid: float | None
    mcid_source: str


def score_charts(view: FollowUpView) -> list[ScoreChart]:
    """One chart per score the episode's questionnaires give, over the latest treatment
    cycle's time points that have opened, against the evaluation's baseline where it measured
    that score. A time point without answers is a gap, so a missed check-in is visible."""
    visits = [v for v in view.visits if not v.visit.cancelled]
    if not visits:
        return []
    cycle = max(v.visit.cycle_number for v in visits)
    shown = [
        v for v in visits if v.visit.cycle_number == cycle and v.status is not VisitStatus.UPCOMING
    ]
    charts = []
    for instrument in view.instruments:
        for name in instrument.score_names:
            key = f"{instrument.code.value}:{name}"
            baseline = view.baseline.get(key)
            values: list[float | None] = []
            for v in shown:
                response = v.responses.get(instrument.code.value)
                scores = response.scores if response is not None else None
                values.append(scores.get(name) if scores else None)
            if baseline is None and all(value is None for value in values):
                continue
            labels = [BEFORE, *(v.visit.label for v in shown)]
            trajectory = Trajectory(
                title=instrument.score_title(name),
                labels=labels,
                values=[baseline, *values],
                score_range=instrument.score_range,
                lower_is_better=instrument.lower_is_better,
                baseline=baseline,
                mcid=instrument.mcid,
            )
            charts.append(
                ScoreChart(
                    key=key,
                    title=trajectory.title,
                    image=svg_image(trajectory_svg(trajectory)),
                    points=list(zip(labels, trajectory.values, strict=True)),
                    mcid=instrument.mcid,
                    mcid_source=instrument.mcid_source,
                )
            )
    return charts
