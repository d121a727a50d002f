"""The registry's outcome report: aggregate figures of the reader's clinics, never a person."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from regenpath.bootstrap import Application
from regenpath.entrypoints.api.access import ReadOutcomeReports
from regenpath.entrypoints.deps import AppDep
from regenpath.entrypoints.outcome_formats import report_json
from regenpath.services.outcomes import OutcomeReport, read_outcome_report
from regenpath.services.ports import UnitOfWork

router = APIRouter(tags=["outcomes"])

Stratum = Literal[
    "condition", "target", "cell_source", "age_band", "smoking", "clinic", "practitioner"
]
Value = Annotated[str | None, Query(max_length=200)]


class OutcomeQuery:
    """The selection and the comparison a report is asked for, as query parameters."""

    def __init__(
        self,
        as_of: date | None = None,
        condition: Value = None,
        target: Value = None,
        cell_source: Value = None,
        age_band: Value = None,
        smoking: Value = None,
        clinic: Value = None,
        practitioner: Value = None,
        compare_by: Stratum | None = None,
        first: Value = None,
        second: Value = None,
        band: Literal["log-log", "log", "plain"] = "log-log",
    ) -> None:
        chosen = {
            "condition": condition,
            "target": target,
            "cell_source": cell_source,
            "age_band": age_band,
            "smoking": smoking,
            "clinic": clinic,
            "practitioner": practitioner,
        }
        self.as_of = as_of
        self.filters = {name: value for name, value in chosen.items() if value}
        both = compare_by is not None and first and second
        self.compare = (compare_by, first, second) if both else None
        self.band = band


def report_for(uow: UnitOfWork, app: Application, query: OutcomeQuery) -> OutcomeReport:
    """The report a query asks for, over the reader's clinics (the API and the page)."""
    source = app.outcome_data()
    try:
        return read_outcome_report(
            uow,
            app.clock,
            source,
            query.as_of or app.clock.now().date(),
            query.filters,
            query.compare,  # type: ignore[arg-type]
            query.band,
        )
    finally:
        source.close()


@router.get("/reports/outcomes")
def outcome_report(
    uow: ReadOutcomeReports, app: AppDep, query: Annotated[OutcomeQuery, Depends()]
) -> dict[str, Any]:
    """Responders at each time point by every MCID definition, three ways (complete case,
    worst case, best case) with Wilson intervals and n due, evaluable, missing and not yet
    due; follow-up completeness; durability of relief (Kaplan-Meier); the STROBE flow; and,
    with ``compare_by``, ``first`` and ``second``, two strata compared (Newcombe difference of
    the worst-case rates, log-rank test of durability)."""
    return report_json(report_for(uow, app, query))
