"""Adverse events (AE-1..5) and the regulatory reports due (RPT-1..3)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, status

from regenpath.domain.safety import ReportStatus, TriageOutcome
from regenpath.entrypoints.api.access import (
    ReadAdverseEvents,
    ReadPatientReports,
    ReadReports,
    RecordAdverseEvents,
    RecordDeviations,
    SubmitReports,
    TriagePatientReports,
)
from regenpath.entrypoints.api.safety_schemas import (
    AdverseEventIn,
    AdverseEventOut,
    BoardOut,
    DeviationIn,
    DeviationOut,
    DismissalIn,
    PatientReportOut,
    RecordedOut,
    ReportOut,
    SubmissionIn,
)
from regenpath.entrypoints.deps import AppDep, IdsDep, signed_in_staff
from regenpath.services import safety

router = APIRouter(tags=["safety"])


@router.post("/episodes/{episode_id}/adverse-events", status_code=status.HTTP_201_CREATED)
def record_adverse_event(
    episode_id: UUID,
    body: AdverseEventIn,
    uow: RecordAdverseEvents,
    request: Request,
    app: AppDep,
    ids: IdsDep,
) -> RecordedOut:
    """An adverse event after consent; the reports it makes due (a communicable disease with a
    serious outcome: Form 3500A in 15 days, RPT-1) are opened with it. Grade 6, an onset
    before consent or a resolution before the onset is 422 naming the field."""
    done = safety.record_adverse_event(
        uow,
        app.clock,
        ids,
        app.ae_catalogue,
        signed_in_staff(request),
        body.command(episode_id),
        app.cusum,
    )
    return RecordedOut(
        adverse_event=AdverseEventOut.of(done.event),
        reports=[ReportOut.model_validate(r) for r in done.reports],
    )


@router.get("/episodes/{episode_id}/adverse-events")
def list_adverse_events(
    episode_id: UUID, uow: ReadAdverseEvents, app: AppDep
) -> list[AdverseEventOut]:
    found = safety.adverse_events(uow, app.clock, app.ae_catalogue, episode_id)
    return [AdverseEventOut.of(event) for event in found]


@router.get("/patient-reports")
def list_patient_reports(
    uow: ReadPatientReports,
    app: AppDep,
    triage: TriageOutcome | None = TriageOutcome.AWAITING,
    episode_id: UUID | None = None,
) -> list[PatientReportOut]:
    """Problems patients reported in the portal; by default those awaiting triage."""
    found = safety.patient_reports(uow, app.clock, triage, episode_id)
    return [PatientReportOut.of(report) for report in found]


@router.post("/patient-reports/{report_id}/dismissal")
def dismiss_patient_report(
    report_id: UUID,
    body: DismissalIn,
    uow: TriagePatientReports,
    request: Request,
    app: AppDep,
) -> PatientReportOut:
    """Triage a report as not an adverse event, saying why. To record one instead, post the
    adverse event with its ``patient_report_id``."""
    closed = safety.dismiss_patient_report(
        uow, app.clock, signed_in_staff(request), report_id, body.note
    )
    return PatientReportOut.of(closed)


@router.get("/reports")
def list_reports(
    uow: ReadReports, app: AppDep, status: ReportStatus | None = ReportStatus.OPEN
) -> BoardOut:
    """The reports due, soonest first, each marked overdue after its last calendar day."""
    board = safety.reports_board(uow, app.clock, status)
    return BoardOut.of(list(board.reports), board.today)


@router.post("/deviations", status_code=status.HTTP_201_CREATED)
def record_deviation(
    body: DeviationIn, uow: RecordDeviations, request: Request, app: AppDep, ids: IdsDep
) -> DeviationOut:
    """A deviation recorded by hand; a distributed product's opens a Form 3486 (RPT-2)."""
    deviation, report = safety.record_deviation(
        uow, app.clock, ids, signed_in_staff(request), body.command()
    )
    return DeviationOut(
        id=deviation.id,
        kind=deviation.kind,
        product_id=deviation.product_id,
        distributed=deviation.distributed,
        report=ReportOut.model_validate(report) if report is not None else None,
    )


@router.get("/safety-signals")
def safety_signals(uow: ReadReports, app: AppDep) -> list[dict[str, Any]]:
    """Every lot's, donor's, clinic's and practitioner's rate of serious related adverse
    events with its Wilson interval, and whether its CUSUM crossed; alerts first."""
    return [
        {
            "kind": s.kind,
            "group": s.label,
            "administrations": s.administrations,
            "events": s.events,
            "rate": s.rate,
            "ci95": list(s.interval),
            "baseline": s.baseline,
            "alert": s.alert,
            "alert_at": s.alarm_at,
        }
        for s in safety.safety_signals(uow, app.ae_catalogue, app.cusum)
    ]


@router.post("/reports/{report_id}/submission")
def record_submission(
    report_id: UUID, body: SubmissionIn, uow: SubmitReports, request: Request, app: AppDep
) -> ReportOut:
    closed = safety.record_submission(
        uow, app.clock, signed_in_staff(request), report_id, body.submitted_on, body.reference
    )
    return ReportOut.model_validate(closed)


@router.get("/reports/{report_id}/form-3500a")
def form_3500a(report_id: UUID, uow: ReadReports, app: AppDep) -> dict[str, Any]:
    """The Form FDA 3500A fields regenpath knows, to transcribe (nothing is submitted)."""
    return safety.form_3500a(uow, app.clock, app.ae_catalogue, report_id)
