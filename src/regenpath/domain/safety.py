"""Adverse events (docs/rules.md) and the reports they and deviations make due
(section 1.3: RPT-1..RPT-3), counted in calendar days from discovery."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from regenpath.domain.errors import InvalidValue


class Seriousness(StrEnum):
    """AE-2 (21 CFR 312.32, ICH E2A): each criterion on its own; any one makes it serious."""

    DEATH = "death"
    LIFE_THREATENING = "life_threatening"
    HOSPITALIZATION = "hospitalization"  # inpatient or prolonged hospitalization
    DISABILITY = "disability"  # persistent or significant disability / permanent impairment
    CONGENITAL_ANOMALY = "congenital_anomaly"
    INTERVENTION = "intervention"  # needed medical or surgical intervention (RPT-1)
    IMPORTANT_MEDICAL_EVENT = "important_medical_event"


class Relatedness(StrEnum):
    """AE-3, WHO-UMC causality categories; judged for harvest, product and injection apart."""

    CERTAIN = "certain"
    PROBABLE = "probable"
    POSSIBLE = "possible"
    UNLIKELY = "unlikely"
    CONDITIONAL = "conditional"
    UNASSESSABLE = "unassessable"

    @property
    def suspected(self) -> bool:
        """Certain, probable or possible: "related" for reporting ([U] collapsing, AE-3)."""
        return self in (Relatedness.CERTAIN, Relatedness.PROBABLE, Relatedness.POSSIBLE)


class AeOutcome(StrEnum):
    RECOVERING = "recovering"
    RECOVERED = "recovered"
    RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae"
    NOT_RECOVERED = "not_recovered"
    FATAL = "fatal"
    UNKNOWN = "unknown"


class AeSource(StrEnum):
    STAFF = "staff"
    PATIENT = "patient"  # reported by the patient, triaged by staff


# AE-1: CTCAE v5 grades.
GRADES: Mapping[int, str] = {
    1: "Mild; observation only, no intervention",
    2: "Moderate; minimal or local intervention; limits instrumental ADL",
    3: "Severe; hospitalization indicated; limits self-care ADL",
    4: "Life-threatening; urgent intervention",
    5: "Death related to the adverse event",
}


@dataclass(frozen=True)
class AeTerm:
    """One entry of the AE-5 catalogue; ``communicable`` feeds the RPT-1 trigger (AE-4)."""

    code: str
    label: str
    communicable: bool = False
    baseline_rate: float | None = None  # per administration, where a source gives one


@dataclass(frozen=True)
class AeCatalogue:
    version: str
    terms: Mapping[str, AeTerm]

    def term(self, code: str) -> AeTerm:
        found = self.terms.get(code.strip().upper())
        if found is None:
            raise InvalidValue("term", f"{code!r} is not in the catalogue {self.version}")
        return found


def parse_ae_catalogue(data: Mapping[str, object]) -> AeCatalogue:
    """The AE-5 catalogue from its file's content; a duplicate code is refused."""
    terms: dict[str, AeTerm] = {}
    entries = data.get("terms")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        code = str(entry.get("code", "")).strip().upper()
        if not code or code in terms:
            raise InvalidValue(f"terms[{index}].code", "a unique code is required")
        rate = entry.get("baseline_rate")
        terms[code] = AeTerm(
            code=code,
            label=str(entry.get("label") or code),
            communicable=bool(entry.get("communicable", False)),
            baseline_rate=float(rate) if rate is not None else None,
        )
    if not terms:
        raise InvalidValue("terms", "the catalogue has at least one term")
    return AeCatalogue(str(data.get("version", "")), terms)


@dataclass(frozen=True)
class AdverseEvent:
    id: UUID
    clinic_id: UUID
    episode_id: UUID
    term: AeTerm
    onset_on: date
    grade: int
    seriousness: frozenset[Seriousness]
    outcome: AeOutcome
    discovered_at: datetime  # when the clinic learned of it: the reporting clocks start here
    recorded_by: str
    description: str = ""
    related_harvest: Relatedness | None = None
    related_product: Relatedness | None = None
    related_injection: Relatedness | None = None
    unexpected: bool = False  # not listed among the product's known risks (RPT-3)
    resolved_on: date | None = None
    product_ids: tuple[UUID, ...] = ()
    source: AeSource = AeSource.STAFF

    @property
    def serious(self) -> bool:
        return bool(self.seriousness)

    def check(self, consented_on: date | None, today: date) -> None:
        """The record's own rules; each refusal names its field."""
        if self.grade not in GRADES:
            raise InvalidValue("grade", "a CTCAE grade is 1 to 5")
        if consented_on is None:
            raise InvalidValue("episode_id", "adverse events are recorded after consent")
        if self.onset_on < consented_on:
            raise InvalidValue("onset_on", "the onset is before the treatment was consented")
        if self.onset_on > today:
            raise InvalidValue("onset_on", "the onset cannot be in the future")
        if self.resolved_on is not None and self.resolved_on < self.onset_on:
            raise InvalidValue("resolved_on", "the resolution is before the onset")
        if self.resolved_on is not None and self.resolved_on > today:
            raise InvalidValue("resolved_on", "the resolution cannot be in the future")
        if self.grade == 5 and self.outcome is not AeOutcome.FATAL:
            raise InvalidValue("outcome", "grade 5 is death: the outcome is fatal")
        if self.outcome is AeOutcome.FATAL and Seriousness.DEATH not in self.seriousness:
            raise InvalidValue("seriousness", "a fatal outcome is serious (death)")


class ConcernLevel(StrEnum):
    """How much a problem troubles the patient, in their words (the portal's three buttons)."""

    A_LITTLE = "a_little"
    QUITE_A_LOT = "quite_a_lot"
    VERY_MUCH = "very_much"

    @property
    def label(self) -> str:
        return {
            ConcernLevel.A_LITTLE: "It bothers me a little",
            ConcernLevel.QUITE_A_LOT: "It stops me doing some things",
            ConcernLevel.VERY_MUCH: "It is bad or getting worse",
        }[self]


class TriageOutcome(StrEnum):
    AWAITING = "awaiting"  # nobody has looked at it yet
    ADVERSE_EVENT = "adverse_event"  # recorded as an adverse event (AeSource.PATIENT)
    NOT_AN_EVENT = "not_an_event"  # answered, with a note of why it is not one


# What the portal tells a patient before anything else: signs of the catalogue's serious events
# (AE-5: infection and septic arthritis, discitis, VTE/PE, allergic reaction, nerve injury) that
# need emergency care now, not a message read on the next working day.
EMERGENCY_SIGNS = (
    "trouble breathing, chest pain, or swelling of the face, lips or throat",
    "fever or chills with a hot, red or swollen injection or harvest site",
    "a calf that is swollen, warm and painful",
    "new weakness or numbness in a leg or arm, or loss of bladder or bowel control",
)


@dataclass
class PatientReport:
    """A problem the patient reports in the portal ("something worries me"). Staff triage it:
    either it is recorded as an adverse event, whose reporting clocks then run from the day
    the patient told the clinic, or it is answered as not one, with a note."""

    id: UUID
    clinic_id: UUID
    patient_id: UUID
    episode_id: UUID
    reported_at: datetime
    description: str
    concern: ConcernLevel
    started_on: date | None = None
    triage: TriageOutcome = TriageOutcome.AWAITING
    triaged_at: datetime | None = None
    triaged_by: str | None = None
    triage_note: str = ""
    adverse_event_id: UUID | None = None

    def check(self, today: date) -> None:
        if not self.description.strip():
            raise InvalidValue("description", "tell us what is happening")
        if len(self.description) > MAX_REPORT_LENGTH:
            raise InvalidValue("description", f"at most {MAX_REPORT_LENGTH} characters")
        if self.started_on is not None and self.started_on > today:
            raise InvalidValue("started_on", "the start cannot be in the future")

    def close(self, outcome: TriageOutcome, now: datetime, by: str, note: str = "") -> None:
        if self.triage is not TriageOutcome.AWAITING:
            raise InvalidValue("triage", "this report has already been triaged")
        if outcome is TriageOutcome.NOT_AN_EVENT and not note.strip():
            raise InvalidValue("note", "say why it is not an adverse event")
        self.triage, self.triaged_at, self.triaged_by = outcome, now, by
        self.triage_note = note.strip()


MAX_REPORT_LENGTH = 2000


class ReportForm(StrEnum):
    FDA_3500A = "FDA 3500A"
    FDA_3486 = "FDA 3486"
    IND_SAFETY = "IND safety report"


@dataclass(frozen=True)
class ReportRule:
    """A reporting clock: which events it takes and how many calendar days it gives."""

    id: str
    form: ReportForm
    days: int
    source: str


RPT_1 = ReportRule("RPT-1", ReportForm.FDA_3500A, 15, "21 CFR 1271.350(a)")
RPT_2 = ReportRule("RPT-2", ReportForm.FDA_3486, 45, "21 CFR 1271.350(b)")
RPT_3_FATAL = ReportRule("RPT-3", ReportForm.IND_SAFETY, 7, "21 CFR 312.32(c)(2)")
RPT_3 = ReportRule("RPT-3", ReportForm.IND_SAFETY, 15, "21 CFR 312.32(c)(1)")

# RPT-1: the outcomes that make an adverse reaction with a communicable disease reportable.
RPT_1_OUTCOMES = frozenset(
    {
        Seriousness.DEATH,
        Seriousness.LIFE_THREATENING,
        Seriousness.DISABILITY,
        Seriousness.INTERVENTION,
        Seriousness.HOSPITALIZATION,
    }
)


@dataclass(frozen=True)
class DueReport:
    rule: ReportRule
    discovered_on: date
    reasons: tuple[str, ...] = field(default=())

    @property
    def due_on(self) -> date:
        """Calendar days: weekends and holidays do not pause the clock (1271.350)."""
        return self.discovered_on + timedelta(days=self.rule.days)


def reports_due(ae: AdverseEvent, discovered_on: date, under_ind: bool) -> list[DueReport]:
    """AE-4 and RPT-1, RPT-3: the reports an adverse event makes due, counted from the day
    the clinic discovered it (``discovered_on``, in the clinic's own calendar)."""
    due: list[DueReport] = []
    outcomes = ae.seriousness & RPT_1_OUTCOMES
    if ae.term.communicable and outcomes:
        reasons = (f"{ae.term.label} (communicable) with " + ", ".join(sorted(outcomes)),)
        due.append(DueReport(RPT_1, discovered_on, reasons))
    suspected = any(
        r is not None and r.suspected for r in (ae.related_product, ae.related_injection)
    )
    if under_ind and ae.serious and ae.unexpected and suspected:
        fatal = {Seriousness.DEATH, Seriousness.LIFE_THREATENING} & ae.seriousness
        rule = RPT_3_FATAL if fatal else RPT_3
        due.append(DueReport(rule, discovered_on, ("serious, unexpected, suspected (IND)",)))
    return due


def deviation_report_due(distributed: bool, discovered_on: date) -> DueReport | None:
    """RPT-2: a deviation involving a distributed product is reported within 45 days."""
    if not distributed:
        return None
    return DueReport(RPT_2, discovered_on, ("HCT/P deviation, distributed product",))


class ReportStatus(StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"


@dataclass(frozen=True)
class RegulatoryReport:
    """A report made due by an adverse event or a deviation, until its submission is recorded
    (regenpath submits nothing to outside systems: the officer does, and records it)."""

    id: UUID
    clinic_id: UUID
    rule_id: str
    form: ReportForm
    subject_type: str  # "adverse_event" or "deviation"
    subject_id: UUID
    discovered_on: date
    due_on: date
    reasons: tuple[str, ...]
    opened_at: datetime
    episode_id: UUID | None = None
    status: ReportStatus = ReportStatus.OPEN
    submitted_on: date | None = None
    reference: str | None = None

    def overdue(self, today: date) -> bool:
        """Day N after discovery is the last day; day N + 1 is late."""
        return self.status is ReportStatus.OPEN and today > self.due_on

    def days_left(self, today: date) -> int:
        return (self.due_on - today).days

    def submitted(self, on: date, reference: str, today: date) -> RegulatoryReport:
        """Close the report as submitted ``on`` (the clinic's calendar day). REC-1 (21 CFR
        1271.270(a)): a record is made when the step is done, so a submission dated after
        ``today`` is refused: it would close a clock on a report not yet sent (issue 19)."""
        if self.status is ReportStatus.SUBMITTED:
            raise InvalidValue("report_id", "this report was already submitted")
        if on > today:
            raise InvalidValue("submitted_on", "a submission cannot be dated in the future")
        if on < self.discovered_on:
            raise InvalidValue("submitted_on", "a submission cannot precede the discovery")
        if not reference.strip():
            raise InvalidValue("reference", "record the submission's reference")
        return replace(
            self, status=ReportStatus.SUBMITTED, submitted_on=on, reference=reference.strip()
        )


def open_report(
    due: DueReport,
    *,
    id: UUID,
    clinic_id: UUID,
    subject_type: str,
    subject_id: UUID,
    opened_at: datetime,
    episode_id: UUID | None = None,
) -> RegulatoryReport:
    return RegulatoryReport(
        id=id,
        clinic_id=clinic_id,
        rule_id=due.rule.id,
        form=due.rule.form,
        subject_type=subject_type,
        subject_id=subject_id,
        discovered_on=due.discovered_on,
        due_on=due.due_on,
        reasons=due.reasons,
        opened_at=opened_at,
        episode_id=episode_id,
    )
