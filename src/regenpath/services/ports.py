"""The ports the use cases need: repositories, the Unit of Work, the clock.

Adapters implement them (``adapters/db`` for SQL, ``tests/unit/fakes.py`` in memory). Every
repository is built for one :class:`AccessScope`, so no query can reach outside it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar
from uuid import UUID

from regenpath.domain.access import (
    ApiToken,
    PatientSession,
    PortalLink,
    Role,
    StaffSession,
    UserAccount,
    may_move_to,
)
from regenpath.domain.audit import AuditAction, AuditEntry, AuditOutcome, SealedEntry
from regenpath.domain.consent import SignedConsent, TreatmentPlan
from regenpath.domain.custody import CustodyEvent
from regenpath.domain.donors import Donor, DonorTestResult
from regenpath.domain.episodes import Episode
from regenpath.domain.evaluation import EligibilityRecord, RecordedAssessment
from regenpath.domain.followup import FollowUpVisit, QuestionnaireResponse
from regenpath.domain.messages import MessageStatus, OutboxMessage
from regenpath.domain.pathway import Stage
from regenpath.domain.patients import Clinic, Patient
from regenpath.domain.procedures import HarvestRecord, InjectionRecord
from regenpath.domain.products import BedsideVerification, Product, ProductStatus
from regenpath.domain.quality import ProcessingStep, QcResult
from regenpath.domain.responders import ResponderDefinition
from regenpath.domain.safety import (
    AdverseEvent,
    AeCatalogue,
    PatientReport,
    RegulatoryReport,
    ReportStatus,
    TriageOutcome,
)
from regenpath.domain.signals import Administration
from regenpath.domain.signatures import Signature
from regenpath.domain.tasks import Deviation, Task, TaskStatus

T = TypeVar("T")

IdFactory = Callable[[], UUID]


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class AccessScope:
    """Who is asking, and what they may see; every repository is built for one scope.

    ``clinic_ids``: the clinics whose records this request may touch (``None``: every clinic,
    for the CLI and the demo). ``roles``: the caller's role in each of those clinics (``None``:
    not a person — the CLI, the demo — so no role rule applies). ``patient_id``: a patient
    signed in to the portal sees only their own record. ``actor`` is the audit trail's "who".
    """

    clinic_ids: frozenset[UUID] | None = None
    actor: str = "system"
    roles: Mapping[UUID, Role] | None = None
    patient_id: UUID | None = None
    user_id: UUID | None = None

    def allows(self, clinic_id: UUID) -> bool:
        return self.clinic_ids is None or clinic_id in self.clinic_ids

    def may_move_to(self, clinic_id: UUID, stage: Stage) -> bool:
        """Whether the caller's role in that clinic may move an episode into ``stage``."""
        if self.roles is None:
            return self.patient_id is None
        role = self.roles.get(clinic_id)
        return role is not None and may_move_to(role, stage)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class PatientQuery:
    clinic_id: UUID | None = None
    name: str | None = None
    mrn: str | None = None
    birth_date: date | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class EpisodeQuery:
    clinic_id: UUID | None = None
    stage: Stage | None = None
    patient_id: UUID | None = None
    open_only: bool = False
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class EpisodeSummary:
    """An episode with who it is for: one row of a worklist."""

    episode: Episode
    patient_name: str
    patient_mrn: str
    stage_since: datetime


@dataclass(frozen=True)
class TimelineEntry:
    """One transition in an episode's history: the chart's timeline."""

    episode_id: UUID
    from_stage: Stage
    to_stage: Stage
    occurred_at: datetime
    cycle_number: int | None
    reason: str | None
    events: list[dict[str, Any]] = field(default_factory=list)


class ClinicRepository(Protocol):
    def add(self, clinic: Clinic) -> None: ...
    def get(self, clinic_id: UUID) -> Clinic | None: ...
    def all(self) -> list[Clinic]: ...


class PatientRepository(Protocol):
    def add(self, patient: Patient) -> None: ...
    def get(self, patient_id: UUID) -> Patient | None: ...
    def get_by_mrn(self, clinic_id: UUID, mrn: str) -> Patient | None: ...
    def born_on(self, clinic_id: UUID, birth_date: date) -> list[Patient]:
        """The clinic's patients born on ``birth_date`` (the look-alike check, ID-2)."""
        ...

    def add_many(self, patients: Sequence[Patient]) -> None: ...
    def get_many(self, patient_ids: Collection[UUID]) -> dict[UUID, Patient]: ...
    def by_mrns(self, clinic_id: UUID, mrns: Collection[str]) -> dict[str, Patient]: ...
    def taken_ids(self, patient_ids: Collection[UUID]) -> set[UUID]:
        """Ids any clinic's patients have, whatever the scope: ids are unique server-wide."""
        ...

    def update(self, patient: Patient, expected_version: int, now: datetime) -> None:
        """Write the patient if it is still at ``expected_version``; raise StaleVersion if not."""
        ...

    def search(self, query: PatientQuery) -> Page[Patient]: ...


class EpisodeRepository(Protocol):
    def add(self, episode: Episode) -> None: ...
    def get(self, episode_id: UUID) -> Episode | None: ...
    def claim(self, episode_id: UUID) -> Episode | None:
        """The episode, held by this transaction until it ends so that no other worker works
        on it meanwhile; None when it is gone or another transaction holds it already."""
        ...

    def save(self, episode: Episode, expected_version: int, change: TimelineEntry) -> None:
        """Write the episode and its cycles if still at ``expected_version``, with the change.

        Raises StaleVersion when another writer got there first; nothing is written then.
        """
        ...

    def find(self, query: EpisodeQuery) -> Page[EpisodeSummary]: ...
    def for_patient(self, patient_id: UUID) -> list[Episode]: ...
    def count_by_stage(self, clinic_id: UUID | None = None) -> dict[Stage, int]: ...
    def timeline(self, episode_id: UUID) -> list[TimelineEntry]: ...


class ProductRepository(Protocol):
    def add(self, product: Product) -> None: ...
    def get(self, product_id: UUID) -> Product | None: ...
    def save(self, product: Product) -> None: ...
    def available_donor_products(self, clinic_id: UUID, now: datetime) -> list[Product]: ...
    def add_verification(self, verification: BedsideVerification) -> None: ...
    def latest_verification(self, product_id: UUID) -> BedsideVerification | None: ...
    def verifications(self, product_id: UUID) -> list[BedsideVerification]: ...
    def by_din(self, din: str) -> Product | None: ...
    def find(self, query: ProductQuery) -> list[Product]: ...
    def for_donor(self, donor_id: UUID) -> list[Product]: ...
    def next_din_sequence(self, facility: str, year: int) -> int:
        """The next free sequence for the facility and year; taken once handed out."""
        ...

    def episode_of(self, product_id: UUID) -> UUID | None:
        """The episode whose treatment cycle holds the product, if any."""
        ...


@dataclass(frozen=True)
class ProductQuery:
    clinic_id: UUID | None = None
    statuses: frozenset[ProductStatus] | None = None
    donor_id: UUID | None = None
    limit: int = 200


class LabRecordRepository(Protocol):
    """The product's record: harvest, processing steps, QC, custody, injection."""

    def add_harvest(self, harvest: HarvestRecord) -> None: ...
    def harvest_of(self, product_id: UUID) -> HarvestRecord | None: ...
    def add_step(self, step: ProcessingStep) -> None: ...
    def steps(self, product_id: UUID) -> list[ProcessingStep]: ...
    def step_counts(self, product_ids: Sequence[UUID]) -> dict[UUID, int]: ...
    def add_qc(self, result: QcResult) -> None: ...
    def qc_results(self, product_id: UUID) -> list[QcResult]: ...
    def add_custody(self, event: CustodyEvent) -> None: ...
    def custody(self, product_id: UUID) -> list[CustodyEvent]: ...
    def add_injection(self, injection: InjectionRecord) -> None: ...
    def injection_of(self, product_id: UUID) -> InjectionRecord | None: ...


class DonorRepository(Protocol):
    def add(self, donor: Donor) -> None: ...
    def get(self, donor_id: UUID) -> Donor | None: ...
    def save(self, donor: Donor) -> None:
        """Write the donor if still at its version; raise StaleVersion if not."""
        ...

    def all(self, clinic_id: UUID | None = None) -> list[Donor]: ...
    def add_result(self, result: DonorTestResult) -> None: ...
    def results(self, donor_id: UUID) -> list[DonorTestResult]: ...


class TaskRepository(Protocol):
    def add(self, task: Task) -> None: ...
    def find(
        self, status: TaskStatus | None = None, patient_id: UUID | None = None
    ) -> list[Task]: ...
    def close_for_visit(self, visit_id: UUID, now: datetime) -> int: ...
    def close_for_patient_report(self, report_id: UUID, now: datetime) -> int: ...
    def add_deviation(self, deviation: Deviation) -> None: ...
    def deviations(self, product_id: UUID | None = None) -> list[Deviation]: ...


@dataclass(frozen=True)
class TraceRow:
    """One product in a lookback: where it came from and whom it went to (TRK-1)."""

    product_id: UUID
    din: str
    product_type: str
    status: ProductStatus
    clinic_id: UUID
    donor_id: UUID | None
    donor_code: str | None
    lot_number: str | None
    patient_id: UUID | None
    patient_name: str | None
    patient_mrn: str | None
    episode_id: UUID | None
    administered_at: datetime | None
    recalled_at: datetime | None


class Lookback(Protocol):
    def from_donor(self, donor_id: UUID) -> list[TraceRow]: ...
    def from_lot(self, lot_number: str) -> list[TraceRow]: ...
    def from_products(self, product_ids: Sequence[UUID]) -> list[TraceRow]: ...
    def from_patient(self, patient_id: UUID) -> list[TraceRow]: ...


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None
    action: AuditAction | None = None
    outcome: AuditOutcome | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    cursor: str | None = None


class AuditLog(Protocol):
    def append(self, entry: AuditEntry) -> SealedEntry: ...
    def search(self, query: AuditQuery) -> Page[SealedEntry]:
        """Newest first; entries of the scope's clinics and those of no clinic (sign-ins)."""
        ...

    def chain(self, batch: int = 5_000) -> Iterator[SealedEntry]: ...
    def head(self) -> tuple[int, str]:
        """The sequence and hash the chain's head row says the last entry has."""
        ...

    def storage_problems(self, *, quick: bool = False) -> list[str]:
        """What the database says is wrong with the storage the trail depends on (a file
        that fails its integrity check, the append-only guard missing); empty when sound."""
        ...


class UserRepository(Protocol):
    def add(self, user: UserAccount) -> None: ...
    def get(self, user_id: UUID) -> UserAccount | None: ...
    def by_username(self, username: str) -> UserAccount | None: ...
    def set_password_hash(self, user_id: UUID, password_hash: str) -> None: ...
    def set_role(self, user_id: UUID, clinic_id: UUID, role: Role) -> None:
        """Give the user ``role`` in the clinic, replacing the role they had there."""
        ...

    def members(self) -> list[UserAccount]:
        """The accounts with a role in the scope's clinics."""
        ...


class CredentialRepository(Protocol):
    """Web sessions, API tokens and the record of sign-in attempts."""

    def add_session(self, session: StaffSession) -> None: ...
    def session_by_digest(self, digest: str) -> StaffSession | None: ...
    def end_session(self, session_id: UUID, now: datetime) -> None: ...
    def add_token(self, token: ApiToken) -> None: ...
    def token_by_digest(self, digest: str) -> ApiToken | None: ...
    def tokens_of(self, user_id: UUID) -> list[ApiToken]: ...
    def revoke_token(self, token_id: UUID, user_id: UUID, now: datetime) -> bool: ...
    def touch_token(self, token_id: UUID, now: datetime) -> None: ...
    def record_attempt(self, username: str, at: datetime, succeeded: bool) -> None: ...
    def failures_since_success(self, username: str, since: datetime) -> list[datetime]:
        """Times of wrong passwords after ``since`` and after the last successful sign-in."""
        ...


class SignatureRepository(Protocol):
    def add(self, signature: Signature) -> None: ...
    def for_resource(self, resource_type: str, resource_id: UUID) -> list[Signature]: ...


class PasswordHasher(Protocol):
    # A hash of a random password: checking an unknown user name against it costs what a
    # real check costs, so response time does not reveal which names exist.
    decoy_hash: str

    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...


class EvaluationRepository(Protocol):
    def add_assessment(self, recorded: RecordedAssessment) -> None: ...
    def assessments(self, episode_id: UUID) -> list[RecordedAssessment]: ...
    def latest_assessment(self, episode_id: UUID) -> RecordedAssessment | None: ...
    def add_decision(self, record: EligibilityRecord) -> None: ...
    def decisions(self, episode_id: UUID) -> list[EligibilityRecord]: ...
    def add_plan(self, plan: TreatmentPlan) -> None: ...
    def plans(self, episode_id: UUID) -> list[TreatmentPlan]: ...
    def latest_plan(self, episode_id: UUID) -> TreatmentPlan | None: ...
    def add_consent(self, consent: SignedConsent) -> None: ...
    def save_consent(self, consent: SignedConsent) -> None: ...
    def consents(self, episode_id: UUID) -> list[SignedConsent]: ...


class SafetyRepository(Protocol):
    def add_event(self, event: AdverseEvent) -> None: ...
    def events(
        self, catalogue: AeCatalogue, episode_id: UUID | None = None
    ) -> list[AdverseEvent]: ...
    def get_event(self, catalogue: AeCatalogue, event_id: UUID) -> AdverseEvent | None: ...
    def add_report(self, report: RegulatoryReport) -> None: ...
    def save_report(self, report: RegulatoryReport) -> None: ...
    def reports(self, status: ReportStatus | None = None) -> list[RegulatoryReport]: ...
    def get_report(self, report_id: UUID) -> RegulatoryReport | None: ...
    def administrations(self) -> list[Administration]: ...
    def add_patient_report(self, report: PatientReport) -> None: ...
    def save_patient_report(self, report: PatientReport) -> None: ...
    def patient_reports(
        self, triage: TriageOutcome | None = None, episode_id: UUID | None = None
    ) -> list[PatientReport]: ...
    def get_patient_report(self, report_id: UUID) -> PatientReport | None: ...


class FollowUpRepository(Protocol):
    def add_visits(self, visits: Sequence[FollowUpVisit]) -> None: ...
    def save_visit(self, visit: FollowUpVisit) -> None: ...
    def visits(
        self, episode_id: UUID | None = None, patient_id: UUID | None = None
    ) -> list[FollowUpVisit]: ...
    def get_visit(self, visit_id: UUID) -> FollowUpVisit | None: ...
    def open_visits(self, opened_by: date, closed_since: date) -> list[FollowUpVisit]: ...
    def add_response(self, response: QuestionnaireResponse) -> None: ...
    def save_response(self, response: QuestionnaireResponse) -> None: ...
    def responses(
        self,
        *,
        episode_id: UUID | None = None,
        patient_id: UUID | None = None,
        visit_id: UUID | None = None,
    ) -> list[QuestionnaireResponse]: ...
    def acknowledge_recovery(
        self,
        *,
        id: UUID,
        clinic_id: UUID,
        episode_id: UUID,
        patient_id: UUID,
        cycle_number: int,
        at: datetime,
        by: str,
    ) -> None: ...
    def recovery_acknowledged(self, episode_id: UUID, cycle_number: int) -> datetime | None: ...


class PortalRepository(Protocol):
    def add_link(self, link: PortalLink) -> None: ...
    def link_by_digest(self, digest: str) -> PortalLink | None: ...
    def use_link(self, link_id: UUID, now: datetime) -> bool: ...
    def add_session(self, session: PatientSession) -> None: ...
    def session_by_digest(self, digest: str) -> PatientSession | None: ...
    def end_session(self, session_id: UUID, now: datetime) -> None: ...


class Outbox(Protocol):
    def add(self, message: OutboxMessage) -> None: ...
    def save(self, message: OutboxMessage) -> None: ...
    def in_status(self, status: MessageStatus, limit: int = 100) -> list[OutboxMessage]: ...
    def for_visit(self, visit_id: UUID) -> list[OutboxMessage]: ...


class DeliveryFailure(Exception):
    """A message did not go: for good (a 5xx refusal) or for now (4xx, network).
    ``answered``: the server replied, so whether it took the message is known."""

    def __init__(self, detail: str, *, permanent: bool, answered: bool) -> None:
        super().__init__(detail)
        self.permanent = permanent
        self.answered = answered


class OutcomeSource(Protocol):
    """The registry's analytic relations, aggregated by the engine (adapters/analytics.py),
    narrowed to the cohort ``filters`` and to the clinics of :meth:`scoped`."""

    def scoped(self, clinic_ids: Collection[UUID] | None) -> OutcomeSource:
        """The same data for a reader of ``clinic_ids`` only (None: every clinic)."""
        ...

    def cohort_summary(self, filters: Mapping[str, str] | None = None) -> dict[str, Any]: ...
    def time_point_counts(
        self,
        as_of: date,
        definitions: Sequence[ResponderDefinition],
        filters: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]: ...
    def strata_counts(
        self,
        as_of: date,
        definition: ResponderDefinition,
        sequence: int,
        filters: Mapping[str, str] | None = None,
    ) -> list[tuple[str, str, int, int, int]]: ...
    def durability_durations(
        self, definition: ResponderDefinition, filters: Mapping[str, str] | None = None
    ) -> tuple[Any, Any]: ...
    def follow_up_durations(
        self,
        as_of: date,
        left_stages: Sequence[str],
        filters: Mapping[str, str] | None = None,
    ) -> tuple[Any, Any]: ...
    def flow_counts(self) -> list[tuple[str, bool, bool, bool, int]]: ...
    def strata_values(self) -> dict[str, list[str]]: ...
    def export_deidentified(self, folder: Path, file_format: str) -> dict[str, int]: ...


class Mailer(Protocol):
    """Delivers one message; calls ``before_final_dot`` just before the end of the message
    leaves, so the outbox can record that the server may now have it."""

    def deliver(self, message: OutboxMessage, before_final_dot: Callable[[], None]) -> None: ...


@dataclass(frozen=True)
class StoredResource:
    """A FHIR resource that came in through the FHIR facade (created, updated or imported) and
    has no table of its own in the pathway, kept as the JSON it was validated as."""

    resource_type: str
    resource_id: str
    clinic_id: UUID
    patient_id: UUID | None  # the pathway's patient it is about, once its reference resolved
    version: int
    last_updated: datetime
    content: str
    content_hash: str


@dataclass
class PathwayRecords:
    """The pathway's own records, loaded for the FHIR facade to show as resources."""

    clinics: list[Clinic] = field(default_factory=list)
    staff: list[UserAccount] = field(default_factory=list)
    patients: list[Patient] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    harvests: list[HarvestRecord] = field(default_factory=list)
    injections: list[InjectionRecord] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    responses: list[QuestionnaireResponse] = field(default_factory=list)
    adverse_events: list[AdverseEvent] = field(default_factory=list)
    consents: list[SignedConsent] = field(default_factory=list)
    # Patients imported with an id of another system keep it: pathway id -> FHIR id.
    patient_resource_ids: dict[UUID, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportJob:
    """A FHIR Bulk Data export: who asked, for what, and how far it got."""

    id: UUID
    requested_by: str  # the audit trail's actor
    clinic_ids: tuple[UUID, ...]  # what the requester could read when they asked
    level: str  # system, patient or group
    types: tuple[str, ...]
    since: datetime | None
    request_url: str
    requested_at: datetime
    status: str = "accepted"  # accepted, in-progress, completed, failed
    finished_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class ExportFile:
    job_id: UUID
    resource_type: str
    count: int
    content: str  # NDJSON


class FhirStore(Protocol):
    def get(self, resource_type: str, resource_id: str) -> StoredResource | None: ...
    def find(
        self,
        resource_type: str | None = None,
        patient_ids: Collection[UUID] | None = None,
        since: datetime | None = None,
    ) -> list[StoredResource]: ...
    def owners(
        self, resource_type: str, resource_ids: Collection[str]
    ) -> dict[str, StoredResource]:
        """Stored resources with these ids in any clinic (ids are unique per type server-wide),
        without their content."""
        ...

    def refresh_statistics(self) -> None:
        """Let the database planner see what a bulk load added."""
        ...

    def write(self, added: Sequence[StoredResource], changed: Sequence[StoredResource]) -> None:
        """Insert and update in batches, not a round trip per resource."""
        ...

    def pathway_records(
        self,
        catalogue: AeCatalogue,
        types: Collection[str],
        patient_ids: Collection[UUID] | None = None,
        record_ids: Collection[UUID] | None = None,
    ) -> PathwayRecords:
        """The records behind the given FHIR resource types, in scope, for some patients;
        ``record_ids``: only the records with these ids (a read by id)."""
        ...

    def add_export(self, job: ExportJob) -> None: ...
    def save_export(self, job: ExportJob) -> None: ...
    def get_export(self, job_id: UUID) -> ExportJob | None: ...
    def add_export_files(self, files: Sequence[ExportFile]) -> None: ...
    def export_file(self, job_id: UUID, resource_type: str) -> ExportFile | None: ...
    def export_files(self, job_id: UUID) -> list[tuple[str, int]]: ...


class UnitOfWork(Protocol):
    """One transaction: everything done through its repositories commits together or not at all."""

    scope: AccessScope

    @property
    def clinics(self) -> ClinicRepository: ...
    @property
    def patients(self) -> PatientRepository: ...
    @property
    def episodes(self) -> EpisodeRepository: ...
    @property
    def products(self) -> ProductRepository: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def credentials(self) -> CredentialRepository: ...
    @property
    def signatures(self) -> SignatureRepository: ...
    @property
    def lab(self) -> LabRecordRepository: ...
    @property
    def donors(self) -> DonorRepository: ...
    @property
    def tasks(self) -> TaskRepository: ...
    @property
    def lookback(self) -> Lookback: ...
    @property
    def evaluations(self) -> EvaluationRepository: ...
    @property
    def safety(self) -> SafetyRepository: ...
    @property
    def follow_up(self) -> FollowUpRepository: ...
    @property
    def portal(self) -> PortalRepository: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def fhir(self) -> FhirStore: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
