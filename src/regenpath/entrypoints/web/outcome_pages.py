"""The outcome report as a page, filterable by stratum, and its CSV."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from regenpath.domain.responders import PRIMARY
from regenpath.entrypoints.api.routers.outcomes import OutcomeQuery, deidentified_zip, report_for
from regenpath.entrypoints.deps import AppDep
from regenpath.entrypoints.outcome_formats import report_charts, report_csv
from regenpath.entrypoints.web.access import ExportDeidentified, ReadOutcomeReports
from regenpath.entrypoints.web.rendering import svg_image, templates

router = APIRouter(include_in_schema=False)
Query = Annotated[OutcomeQuery, Depends()]


@router.get("/reports/outcomes", response_class=HTMLResponse)
def outcomes_page(request: Request, uow: ReadOutcomeReports, app: AppDep, query: Query) -> Response:
    report = report_for(uow, app, query)
    compare = query.compare or (None, None, None)
    return templates.TemplateResponse(
        request,
        "outcomes.html",
        {
            "report": report,
            "primary": PRIMARY,
            "charts": {name: svg_image(svg) for name, svg in report_charts(report).items()},
            "compare_by": compare[0],
            "first": compare[1],
            "second": compare[2],
            "query": urlencode(report.filters),
        },
    )


@router.get("/exports/deidentified.zip")
def deidentified_zip_page(uow: ExportDeidentified, app: AppDep) -> Response:
    """The de-identified registry in CSV, as the page's download link gives it."""
    return deidentified_zip(uow, app, "csv")


@router.get("/reports/outcomes.csv")
def outcomes_csv(uow: ReadOutcomeReports, app: AppDep, query: Query) -> Response:
    report = report_for(uow, app, query)
    return Response(
        report_csv(report),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="outcomes.csv"'},
    )
