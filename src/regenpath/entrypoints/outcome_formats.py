"""The outcome report as JSON, CSV and charts: one rendering for the API, the page and
`regenpath report`, so the three never disagree."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Any

from regenpath import __version__
from regenpath.adapters.charts import (
    FlowBox,
    RateBars,
    SurvivalCurve,
    flow_svg,
    rate_bars_svg,
    survival_svg,
)
from regenpath.domain.followup import DAYS_PER_MONTH
from regenpath.domain.responders import PRIMARY, Proportion, ResponderAnalysis
from regenpath.entrypoints.web.rendering import svg_image, templates
from regenpath.services.outcomes import OutcomeReport

ANALYSES = (
    ("complete_case", "complete case"),
    ("worst_case", "worst case (missing = non-responder)"),
    ("best_case", "best case (missing = responder)"),
)


def _proportion(p: Proportion) -> dict[str, Any]:
    return {"k": p.k, "n": p.n, "rate": p.rate, "lower": p.lower, "upper": p.upper}


def _analysis(a: ResponderAnalysis) -> dict[str, Any]:
    return {
        "definition": a.definition.code,
        "title": a.definition.title,
        "primary": a.definition.primary,
        "source": a.definition.source,
        "n_due": a.n_due,
        "n_evaluable": a.n_evaluable,
        "n_not_evaluable": a.n_not_evaluable,
        "n_missing": a.n_missing,
        "n_not_yet_due": a.n_not_yet_due,
        "responders": a.responders,
        **{key: _proportion(getattr(a, key)) for key, _words in ANALYSES},
    }


def report_json(report: OutcomeReport) -> dict[str, Any]:
    """Every figure of the report, JSON-ready (None where a figure does not exist)."""
    durability = report.durability
    comparison = report.comparison
    return {
        "as_of": report.as_of.isoformat(),
        "filters": report.filters,
        "n_cohort": report.n_cohort,
        "median_potential_follow_up_months": report.median_potential_follow_up_months,
        "time_points": [
            {
                "label": t.label,
                "sequence": t.sequence,
                "day": t.day,
                "n_cohort": t.n_cohort,
                "n_replaced": t.n_replaced,
                "n_not_yet_due": t.n_not_yet_due,
                "n_due": t.n_due,
                "n_completed": t.n_completed,
                "completeness": _proportion(t.completeness),
                "responders": [_analysis(a) for a in t.responders],
            }
            for t in report.time_points
        ],
        "durability": {
            "definition": durability.definition.code,
            "n_responders": durability.n_responders,
            "n_lost_response": durability.n_lost,
            "median_months": durability.median_months,
            "median_lower": durability.median_lower,
            "median_upper": durability.median_upper,
            "band": durability.conf_type,
            "at": [asdict(point) for point in durability.at],
            "curve_days": durability.curve,
        },
        "flow": [asdict(step) for step in report.flow],
        "comparison": None
        if comparison is None
        else {
            "stratum": comparison.stratum,
            "first": comparison.first,
            "second": comparison.second,
            "time_point": comparison.time_point,
            "worst_case": [_proportion(p) for p in comparison.worst_case],
            "difference": dict(
                zip(("estimate", "lower", "upper"), comparison.difference, strict=True)
            ),
            "logrank_chi2": comparison.logrank_chi2,
            "logrank_p": comparison.logrank_p,
        },
        "strata": report.strata,
        "by_stratum": {
            "time_point": report.stratum_time_point,
            "definition": PRIMARY.code,
            "rows": [
                {
                    "stratum": row.stratum,
                    "value": row.value,
                    "n_due": row.n_due,
                    "n_answered": row.n_answered,
                    "worst_case": _proportion(row.worst_case),
                }
                for row in report.by_stratum
            ],
        },
        "notes": report.notes,
    }


CSV_COLUMNS = (
    "time_point",
    "definition",
    "primary",
    "n_due",
    "n_evaluable",
    "n_not_evaluable",
    "n_missing",
    "n_not_yet_due",
    "responders",
    *(f"{key}_{part}" for key, _w in ANALYSES for part in ("rate", "lower", "upper")),
    "completeness_rate",
    "completeness_lower",
    "completeness_upper",
)


def report_csv(report: OutcomeReport) -> str:
    """One row per time point and responder definition, the three analyses side by side."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for t in report.time_points:
        for a in t.responders:
            writer.writerow(
                [
                    t.label,
                    a.definition.code,
                    a.definition.primary,
                    a.n_due,
                    a.n_evaluable,
                    a.n_not_evaluable,
                    a.n_missing,
                    a.n_not_yet_due,
                    a.responders,
                    *(
                        _cell(getattr(getattr(a, key), part))
                        for key, _w in ANALYSES
                        for part in ("rate", "lower", "upper")
                    ),
                    _cell(t.completeness.rate),
                    _cell(t.completeness.lower),
                    _cell(t.completeness.upper),
                ]
            )
    return out.getvalue()


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def report_html(report: OutcomeReport) -> str:
    """A self-contained HTML document (charts inline), as `regenpath report` writes it."""
    return templates.env.get_template("outcomes_export.html").render(
        report=report,
        primary=PRIMARY,
        charts={name: svg_image(svg) for name, svg in report_charts(report).items()},
        version=__version__,
    )


def report_charts(report: OutcomeReport) -> dict[str, bytes]:
    """The report's four charts as SVG: responders (primary definition, three analyses),
    durability, completeness, and the STROBE flow."""
    shown = [t for t in report.time_points if t.n_due or t.n_completed]
    labels = [t.label for t in shown]
    primaries = [next(a for a in t.responders if a.definition == PRIMARY) for t in shown]
    charts = {
        "responders": rate_bars_svg(
            RateBars(
                title=f"Responders: {PRIMARY.title}",
                labels=labels,
                series=[
                    (
                        words,
                        [getattr(a, key).rate for a in primaries],
                        [getattr(a, key).lower for a in primaries],
                        [getattr(a, key).upper for a in primaries],
                    )
                    for key, words in ANALYSES
                ],
                notes=[f"due {a.n_due}" for a in primaries],
            )
        ),
        "completeness": rate_bars_svg(
            RateBars(
                title="Follow-up completeness (answered / due)",
                labels=labels,
                series=[
                    (
                        "completed",
                        [t.completeness.rate for t in shown],
                        [t.completeness.lower for t in shown],
                        [t.completeness.upper for t in shown],
                    )
                ],
                notes=[f"{t.n_completed}/{t.n_due}" for t in shown],
            ),
            height=2.8,
        ),
        "flow": flow_svg(
            [
                FlowBox(
                    step.step,
                    step.count,
                    [f"{why}: {n}" for why, n in step.not_onward.items() if n],
                )
                for step in report.flow
            ]
        ),
    }
    curve = report.durability.curve
    months = [float(row["time"] or 0) / DAYS_PER_MONTH for row in curve]
    charts["durability"] = survival_svg(
        SurvivalCurve(
            title=f"Durability of relief among {report.durability.n_responders} responders",
            times=months,
            survival=[float(row["survival"] or 0) for row in curve],
            lower=[None if row["ci_lower"] is None else float(row["ci_lower"]) for row in curve],
            upper=[None if row["ci_upper"] is None else float(row["ci_upper"]) for row in curve],
            at_risk_times=[float(month) for month, _n in report.durability.at_risk],
            at_risk=[n for _month, n in report.durability.at_risk],
            band=report.durability.conf_type,
        )
    )
    return charts
