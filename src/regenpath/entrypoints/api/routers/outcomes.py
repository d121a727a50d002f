"""The registry's outcome report: aggregate figures of the reader's clinics, never a person."""

from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from regenpath.bootstrap import Application
from regenpath.domain.errors import InvalidValue
from regenpath.entrypoints.api.access import ExportDeidentified, ReadOutcomeReports
from regenpath.entrypoints.deps import AppDep
from regenpath.entrypoints.outcome_formats import report_json
from regenpath.services.outcomes import OutcomeReport, export_deidentified, read_outcome_report
from regenpath.services.ports import UnitOfWork

router = APIRouter(tags=["outcomes"])

Stratum = Literal[
    "condition", "target", "cell_source", "age_band", "smoking", "clinic", "practitioner"
]
Value = Annotated[str | None, Query(max_length=200)]
STRATA = "condition, target, cell_source, age_band, smoking, clinic, practitioner"
QUERY_NAMES = frozenset(
    {*STRATA.split(", "), "as_of", "compare_by", "first", "second", "band", "time_point"}
)


class OutcomeQuery:
    """The selection and the comparison a report is asked for, as query parameters."""

    def __init__(
        self,
        request: Request,
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
        time_point: Value = None,
    ) -> None:
        unknown = sorted(set(request.query_params) - QUERY_NAMES)
        if unknown:
            raise InvalidValue(unknown[0], f"not a stratum or option of this report ({STRATA})")
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
        self.time_point = time_point


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
            query.time_point,
        )
    finally:
        source.close()


def deidentified_zip(uow: UnitOfWork, app: Application, file_format: str) -> Response:
    """The de-identified registry (patients, visits, adverse events) as one zip file."""
    source = app.outcome_data()
    buffer = io.BytesIO()
    try:
        with tempfile.TemporaryDirectory() as folder:
            export_deidentified(uow, app.clock, source, Path(folder), file_format)
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(Path(folder).iterdir()):
                    archive.write(path, path.name)
    finally:
        source.close()
    name = f"regenpath-deidentified-{app.clock.now():%Y%m%d}-{file_format}.zip"
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/exports/deidentified",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def deidentified_export(
    uow: ExportDeidentified, app: AppDep, format: Literal["csv", "parquet"] = "csv"
) -> Response:
    """The registry for research, de-identified by HIPAA Safe Harbor: a random study number
    per export, no name, contact, MRN, DIN or practitioner, every date as days from the
    index injection, ages of 90 and over grouped. A zip of patients, visits and adverse
    events, in CSV or Parquet."""
    return deidentified_zip(uow, app, format)


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
