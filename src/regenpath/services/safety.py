"""Use cases of safety: the adverse-event record, the reports it and deviations make due, the
quality officer's list of open reports, and the Form 3500A fields to transcribe."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from regenpath.domain.access import StaffMember
from regenpath.domain.audit import AuditAction
from regenpath.domain.errors import InvalidValue
from regenpath.domain.isbt128 import parse_din
from regenpath.domain.safety import (
    AdverseEvent,
    AeCatalogue,
    AeOutcome,
    AeSource,
    ConcernLevel,
    PatientReport,
    RegulatoryReport,
    Relatedness,
    ReportStatus,
    Seriousness,
    TriageOutcome,
    deviation_report_due,
    open_report,
    reports_due,
)
from regenpath.domain.signals import Cusum, GroupSignal, signals
from regenpath.domain.tasks import Deviation, DeviationKind, Task, TaskKind, TaskStatus
from regenpath.services.audit import failures_recorded, record
from regenpath.services.clinics import clinic_day
from regenpath.services.errors import InvalidReference, NotFound
from regenpath.services.ports import Clock, IdFactory, UnitOfWork

# AE-5: serious adverse events possibly related to the treatment, about 0.55 % of
# administrations; alert on a five-fold rise. The threshold 7.0 keeps false alerts to about
# 5 % of registries of 10 lots x 2,000 administrations (tests/unit/test_signals.py).
DEFAULT_CUSUM = Cusum(baseline=0.0055, ratio=5.0, threshold=7.0)


@dataclass(frozen=True)
class RecordAdverseEvent:
    episode_id: UUID
    term_code: str
    onset_on: date
    grade: int
    seriousness: frozenset[Seriousness]
    outcome: AeOutcome
    description: str = ""
    related_harvest: Relatedness | None = None
    related_product: Relatedness | None = None
    related_injection: Relatedness | None = None
    unexpected: bool = False
    resolved_on: date | None = None
    source: AeSource = AeSource.STAFF
    patient_report_id: UUID | None = None  # the patient's portal report this records


@dataclass(frozen=True)
class AdverseEventRecorded:
    event: AdverseEvent
    reports: list[RegulatoryReport]


def record_adverse_event(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    catalogue: AeCatalogue,
    staff: StaffMember,
    command: RecordAdverseEvent,
    cusum: Cusum | None = None,
) -> AdverseEventRecorded:
    """The adverse event, with the episode's products, and every report it makes due (AE-4,
    RPT-1, RPT-3) opened in the same transaction; a safety signal it completes opens a task
    for the quality officer (``cusum``: the clinic's signal settings)."""
    cusum = cusum or DEFAULT_CUSUM
    where = command.episode_id
    with failures_recorded(uow, clock, AuditAction.CREATE, "adverse_event", where), uow:
        episode = uow.episodes.get(command.episode_id)
        if episode is None:
            raise NotFound("episode", command.episode_id)
        today = clinic_day(uow, episode.clinic_id, clock.now())
        signed = [c.signed_at for c in uow.evaluations.consents(episode.id)]
        first_consent = min(
            [*signed, *([episode.consented_at] if episode.consented_at else [])], default=None
        )
        reported = _patient_report(uow, command, episode.id)
        discovered_at = reported.reported_at if reported is not None else clock.now()
        event = AdverseEvent(
            id=new_id(),
            clinic_id=episode.clinic_id,
            episode_id=episode.id,
            term=catalogue.term(command.term_code),
            onset_on=command.onset_on,
            grade=command.grade,
            seriousness=command.seriousness,
            outcome=command.outcome,
            discovered_at=discovered_at,
            recorded_by=staff.display_name,
            description=command.description.strip(),
            related_harvest=command.related_harvest,
            related_product=command.related_product,
            related_injection=command.related_injection,
            unexpected=command.unexpected,
            resolved_on=command.resolved_on,
            product_ids=tuple(c.product_id for c in episode.cycles if c.product_id),
            source=AeSource.PATIENT if reported is not None else command.source,
        )
        event.check(first_consent.date() if first_consent else None, today)
        discovered_on = clinic_day(uow, episode.clinic_id, discovered_at)
        plan = uow.evaluations.latest_plan(episode.id)
        under_ind = plan is not None and bool(plan.ind_number)
        reports = [
            open_report(
                due,
                id=new_id(),
                clinic_id=episode.clinic_id,
                subject_type="adverse_event",
                subject_id=event.id,
                opened_at=clock.now(),
                episode_id=episode.id,
            )
            for due in reports_due(event, discovered_on, under_ind)
        ]
        uow.safety.add_event(event)
        if reported is not None:
            reported.close(TriageOutcome.ADVERSE_EVENT, clock.now(), staff.display_name)
            reported.adverse_event_id = event.id
            uow.safety.save_patient_report(reported)
            uow.tasks.close_for_patient_report(reported.id, clock.now())
        flagged = flagged_products(uow.safety.events(catalogue))
        _open_signal_tasks(
            uow, clock, new_id, signals(uow.safety.administrations(), flagged, cusum)
        )
        for report in reports:
            uow.safety.add_report(report)
            record(
                uow,
                clock,
                AuditAction.CREATE,
                "regulatory_report",
                report.id,
                episode.clinic_id,
                detail=f"{report.rule_id} {report.form} due {report.due_on}",
            )
        record(
            uow,
            clock,
            AuditAction.CREATE,
            "adverse_event",
            event.id,
            episode.clinic_id,
            detail=f"{event.term.code} grade {event.grade}",
        )
        uow.commit()
    return AdverseEventRecorded(event, reports)


def _patient_report(
    uow: UnitOfWork, command: RecordAdverseEvent, episode_id: UUID
) -> PatientReport | None:
    """The patient's report an adverse event records, refused unless it is this episode's
    and still awaiting triage."""
    if command.patient_report_id is None:
        return None
    reported = uow.safety.get_patient_report(command.patient_report_id)
    if reported is None or reported.episode_id != episode_id:
        raise InvalidReference("patient_report_id", "no such report of this episode's patient")
    if reported.triage is not TriageOutcome.AWAITING:
        raise InvalidValue("patient_report_id", "this report has already been triaged")
    return reported


# -- what patients report in the portal -------------------------------------------------------


@dataclass(frozen=True)
class ReportProblem:
    episode_id: UUID
    description: str
    concern: ConcernLevel
    started_on: date | None = None


def report_problem(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, patient_id: UUID, command: ReportProblem
) -> PatientReport:
    """A patient's "something worries me", stored with a triage task for the clinic's staff
    in the same transaction, so no report waits unseen."""
    now = clock.now()
    with uow:
        episode = uow.episodes.get(command.episode_id)
        if episode is None or episode.patient_id != patient_id:
            raise NotFound("episode", command.episode_id)
        report = PatientReport(
            id=new_id(),
            clinic_id=episode.clinic_id,
            patient_id=patient_id,
            episode_id=episode.id,
            reported_at=now,
            description=command.description.strip(),
            concern=command.concern,
            started_on=command.started_on,
        )
        report.check(clinic_day(uow, episode.clinic_id, now))
        uow.safety.add_patient_report(report)
        uow.tasks.add(
            Task(
                id=new_id(),
                clinic_id=episode.clinic_id,
                kind=TaskKind.PATIENT_REPORT,
                title="Patient-reported problem: triage",
                reason=f"{report.concern.label}: {report.description[:200]}",
                opened_at=now,
                patient_id=patient_id,
                patient_report_id=report.id,
            )
        )
        record(uow, clock, AuditAction.CREATE, "patient_report", report.id, episode.clinic_id)
        uow.commit()
    return report


def patient_reports(
    uow: UnitOfWork,
    clock: Clock,
    triage: TriageOutcome | None = TriageOutcome.AWAITING,
    episode_id: UUID | None = None,
) -> list[PatientReport]:
    """Patients' reports (by default those awaiting triage, oldest first); audited."""
    with uow:
        found = uow.safety.patient_reports(triage, episode_id)
        record(
            uow,
            clock,
            AuditAction.READ,
            "patient_report",
            str(episode_id) if episode_id else None,
            None,
            detail=f"{len(found)} reports",
        )
        uow.commit()
    return found


def get_patient_report(uow: UnitOfWork, clock: Clock, report_id: UUID) -> PatientReport:
    with uow:
        report = uow.safety.get_patient_report(report_id)
        if report is None:
            raise NotFound("patient report", report_id)
        record(uow, clock, AuditAction.READ, "patient_report", report.id, report.clinic_id)
        uow.commit()
    return report


def dismiss_patient_report(
    uow: UnitOfWork, clock: Clock, staff: StaffMember, report_id: UUID, note: str
) -> PatientReport:
    """Triage a report as not an adverse event, with the note of why (the patient's words
    stay on record either way)."""
    with uow:
        report = uow.safety.get_patient_report(report_id)
        if report is None:
            raise NotFound("patient report", report_id)
        report.close(TriageOutcome.NOT_AN_EVENT, clock.now(), staff.display_name, note)
        uow.safety.save_patient_report(report)
        uow.tasks.close_for_patient_report(report.id, clock.now())
        record(
            uow,
            clock,
            AuditAction.UPDATE,
            "patient_report",
            report.id,
            report.clinic_id,
            detail="not an adverse event",
        )
        uow.commit()
    return report


def flagged_products(events: Sequence[AdverseEvent]) -> set[UUID]:
    """The products after which a serious adverse event suspected to be related to the
    product or the injection was recorded: what the signal counts (AE-3, AE-5)."""
    return {
        product_id
        for event in events
        if event.serious
        and any(
            r is not None and r.suspected for r in (event.related_product, event.related_injection)
        )
        for product_id in event.product_ids
    }


def safety_signals(uow: UnitOfWork, catalogue: AeCatalogue, cusum: Cusum) -> list[GroupSignal]:
    """Every lot's, donor's, clinic's and practitioner's signal, alerts first."""
    with uow:
        found = signals(
            uow.safety.administrations(), flagged_products(uow.safety.events(catalogue)), cusum
        )
    return found


def _open_signal_tasks(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, found: Sequence[GroupSignal]
) -> list[Task]:
    """One task per alerting group, for the quality officer, unless one is open already; a
    lot's or donor's task points at a product of it, so its lookback is one click away."""
    open_titles = {
        t.title for t in uow.tasks.find(TaskStatus.OPEN) if t.kind is TaskKind.SAFETY_SIGNAL
    }
    opened: list[Task] = []
    for signal in found:
        title = f"Safety signal: {signal.kind} {signal.label}"
        if not signal.alert or signal.last is None or title in open_titles:
            continue
        low, high = signal.interval
        task = Task(
            id=new_id(),
            clinic_id=signal.last.clinic_id,
            kind=TaskKind.SAFETY_SIGNAL,
            title=title,
            reason=(
                f"{signal.events} serious, related adverse events in {signal.administrations} "
                f"administrations ({signal.rate:.1%}, 95% CI {low:.1%}-{high:.1%}) against a "
                f"baseline of {signal.baseline:.2%}; CUSUM alert at administration "
                f"{signal.alarm_at}. Review the cases"
                + (
                    "; the lookback reaches every recipient."
                    if signal.kind in ("lot", "donor")
                    else "."
                )
            ),
            opened_at=clock.now(),
            product_id=signal.last.product_id if signal.kind in ("lot", "donor") else None,
        )
        uow.tasks.add(task)
        record(uow, clock, AuditAction.CREATE, "task", task.id, task.clinic_id, detail=title)
        opened.append(task)
    return opened


def open_deviation_report(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, deviation: Deviation
) -> RegulatoryReport | None:
    """RPT-2, in the caller's transaction: a deviation of a distributed product is due on
    Form 3486 within 45 days of its discovery."""
    day = clinic_day(uow, deviation.clinic_id, deviation.discovered_at)
    due = deviation_report_due(deviation.distributed, day)
    if due is None:
        return None
    report = open_report(
        due,
        id=new_id(),
        clinic_id=deviation.clinic_id,
        subject_type="deviation",
        subject_id=deviation.id,
        opened_at=clock.now(),
        episode_id=deviation.episode_id,
    )
    uow.safety.add_report(report)
    record(
        uow,
        clock,
        AuditAction.CREATE,
        "regulatory_report",
        report.id,
        deviation.clinic_id,
        detail=f"{report.rule_id} {report.form} due {report.due_on}",
    )
    return report


@dataclass(frozen=True)
class RecordDeviation:
    clinic_id: UUID
    kind: DeviationKind
    description: str
    distributed: bool
    din: str | None = None  # the product involved, as on its label


def record_deviation(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, staff: StaffMember, command: RecordDeviation
) -> tuple[Deviation, RegulatoryReport | None]:
    """A deviation staff report by hand (a protocol deviation, an attempt to use an expired or
    quarantined product); one of a distributed product is due on Form 3486 (RPT-2)."""
    if not command.description.strip():
        raise InvalidValue("description", "say what deviated from the procedure")
    with failures_recorded(uow, clock, AuditAction.CREATE, "deviation", None), uow:
        if uow.clinics.get(command.clinic_id) is None:
            raise InvalidReference("clinic_id", "no such clinic of yours")
        product = None
        if command.din and command.din.strip():
            product = uow.products.by_din(parse_din(command.din, "din").code)
            if product is None or product.clinic_id != command.clinic_id:
                raise InvalidReference("din", "no product of this clinic has that DIN")
        deviation = Deviation(
            id=new_id(),
            clinic_id=command.clinic_id,
            kind=command.kind,
            description=command.description.strip(),
            discovered_at=clock.now(),
            recorded_by=staff.display_name,
            product_id=product.id if product is not None else None,
            patient_id=product.intended_patient_id if product is not None else None,
            distributed=command.distributed,
        )
        uow.tasks.add_deviation(deviation)
        report = open_deviation_report(uow, clock, new_id, deviation)
        record(
            uow,
            clock,
            AuditAction.CREATE,
            "deviation",
            deviation.id,
            deviation.clinic_id,
            detail=f"{deviation.kind}: {deviation.description[:200]}",
        )
        uow.commit()
    return deviation, report


def adverse_events(
    uow: UnitOfWork, clock: Clock, catalogue: AeCatalogue, episode_id: UUID
) -> list[AdverseEvent]:
    with failures_recorded(uow, clock, AuditAction.READ, "adverse_event", episode_id), uow:
        episode = uow.episodes.get(episode_id)
        if episode is None:
            raise NotFound("episode", episode_id)
        found = uow.safety.events(catalogue, episode.id)
        record(uow, clock, AuditAction.READ, "adverse_event", episode.id, episode.clinic_id)
        uow.commit()
    return found


@dataclass(frozen=True)
class ReportsBoard:
    reports: Sequence[RegulatoryReport]
    today: date


def reports_board(
    uow: UnitOfWork, clock: Clock, status: ReportStatus | None = ReportStatus.OPEN
) -> ReportsBoard:
    """The reports by due date (the soonest first); "today" is UTC's, each row's overdue mark
    compares calendar dates."""
    with uow:
        found = uow.safety.reports(status)
    return ReportsBoard(found, clock.now().date())


def record_submission(
    uow: UnitOfWork,
    clock: Clock,
    staff: StaffMember,
    report_id: UUID,
    submitted_on: date,
    reference: str,
) -> RegulatoryReport:
    """Closes a report: the date it was submitted and the agency's reference."""
    with failures_recorded(uow, clock, AuditAction.UPDATE, "regulatory_report", report_id), uow:
        report = uow.safety.get_report(report_id)
        if report is None:
            raise NotFound("regulatory_report", report_id)
        today = clinic_day(uow, report.clinic_id, clock.now())
        closed = report.submitted(submitted_on, reference, today)
        uow.safety.save_report(closed)
        record(
            uow,
            clock,
            AuditAction.UPDATE,
            "regulatory_report",
            report.id,
            report.clinic_id,
            detail=f"submitted {submitted_on} ref {closed.reference} by {staff.display_name}",
        )
        uow.commit()
    return closed


def form_3500a(
    uow: UnitOfWork, clock: Clock, catalogue: AeCatalogue, report_id: UUID
) -> dict[str, Any]:
    """The fields of Form FDA 3500A (MedWatch, mandatory reporting) as regenpath knows them,
    section by section, for the officer to transcribe; nothing is sent anywhere."""
    with failures_recorded(uow, clock, AuditAction.READ, "regulatory_report", report_id), uow:
        report = uow.safety.get_report(report_id)
        if report is None or report.subject_type != "adverse_event":
            raise NotFound("regulatory_report", report_id)
        event = uow.safety.get_event(catalogue, report.subject_id)
        assert event is not None, "a report's adverse event is in its clinic"
        episode = uow.episodes.get(event.episode_id)
        assert episode is not None
        patient = uow.patients.get(episode.patient_id)
        clinic = uow.clinics.get(event.clinic_id)
        assert patient is not None and clinic is not None
        products = [uow.products.get(p) for p in event.product_ids]
        record(uow, clock, AuditAction.READ, "regulatory_report", report.id, report.clinic_id)
        uow.commit()
    initials = f"{patient.given_name[:1]}{patient.family_name[:1]}".upper()
    return {
        "A. Patient information": {
            "Identifier": initials,
            "Age at event": patient.age_on(event.onset_on),
            "Sex": patient.sex.value,
        },
        "B. Adverse event": {
            "Outcomes": sorted(s.value for s in event.seriousness) or ["none"],
            "Date of event": event.onset_on.isoformat(),
            "Date of this report": clock.now().date().isoformat(),
            "Description": f"{event.term.label} (CTCAE grade {event.grade}). {event.description}",
            "Outcome": event.outcome.value,
            "Resolved on": event.resolved_on.isoformat() if event.resolved_on else "",
        },
        "C. Product (HCT/P)": [
            {
                "Distinct identification code (DIN)": p.din,
                "Product type": p.product_type.label,
                "Lot": p.lot_number or "",
                "Administered": p.administered_at.date().isoformat() if p.administered_at else "",
                "Relatedness (WHO-UMC)": str(event.related_product or "not assessed"),
            }
            for p in products
            if p is not None
        ],
        "G. Reporting establishment": {
            "Name": clinic.name,
            "Report type": f"{report.rule_id}: {report.form}",
            "Date received by establishment": report.discovered_on.isoformat(),
            "Due": report.due_on.isoformat(),
        },
    }
