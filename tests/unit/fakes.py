"""In-memory adapters for the services' ports: fakes over mocks, so tests read as sentences."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from types import TracebackType
from typing import Self
from uuid import UUID

from regenpath.domain.audit import GENESIS, AuditEntry, SealedEntry, seal
from regenpath.domain.consent import SignedConsent, TreatmentPlan
from regenpath.domain.episodes import Episode
from regenpath.domain.evaluation import EligibilityRecord, RecordedAssessment
from regenpath.domain.pathway import OPEN_STAGES, Stage
from regenpath.domain.patients import Clinic, Patient, mrn_key
from regenpath.domain.products import BedsideVerification, CellSource, Product, ProductStatus
from regenpath.services.errors import StaleVersion
from regenpath.services.ports import (
    AccessScope,
    EpisodeQuery,
    EpisodeSummary,
    Page,
    PatientQuery,
    TimelineEntry,
)


class FakeStore:
    """What a database would hold; shared by every unit of work over it."""

    def __init__(self) -> None:
        self.clinics: dict[UUID, Clinic] = {}
        self.patients: dict[UUID, Patient] = {}
        self.episodes: dict[UUID, Episode] = {}
        self.products: dict[UUID, Product] = {}
        self.verifications: list[BedsideVerification] = []
        self.timeline: list[TimelineEntry] = []
        self.audit: list[SealedEntry] = []
        self.assessments: list[RecordedAssessment] = []
        self.decisions: list[EligibilityRecord] = []
        self.plans: list[TreatmentPlan] = []
        self.consents: list[SignedConsent] = []


class _Repo:
    def __init__(self, store: FakeStore, scope: AccessScope) -> None:
        self.store = store
        self.scope = scope


class FakeClinics(_Repo):
    def add(self, clinic: Clinic) -> None:
        self.store.clinics[clinic.id] = copy.deepcopy(clinic)

    def get(self, clinic_id: UUID) -> Clinic | None:
        clinic = self.store.clinics.get(clinic_id)
        return copy.deepcopy(clinic) if clinic and self.scope.allows(clinic.id) else None

    def all(self) -> list[Clinic]:
        return [copy.deepcopy(c) for c in self.store.clinics.values() if self.scope.allows(c.id)]


class FakePatients(_Repo):
    def add(self, patient: Patient) -> None:
        self.store.patients[patient.id] = copy.deepcopy(patient)

    def get(self, patient_id: UUID) -> Patient | None:
        patient = self.store.patients.get(patient_id)
        return copy.deepcopy(patient) if patient and self.scope.allows(patient.clinic_id) else None

    def get_by_mrn(self, clinic_id: UUID, mrn: str) -> Patient | None:
        for patient in self.store.patients.values():
            if patient.clinic_id == clinic_id and mrn_key(patient.mrn) == mrn_key(mrn):
                return copy.deepcopy(patient)
        return None

    def born_on(self, clinic_id: UUID, birth_date: object) -> list[Patient]:
        return [
            copy.deepcopy(p)
            for p in self.store.patients.values()
            if p.clinic_id == clinic_id and p.birth_date == birth_date
        ]

    def add_many(self, patients: list[Patient]) -> None:
        for patient in patients:
            self.add(patient)

    def get_many(self, patient_ids: set[UUID]) -> dict[UUID, Patient]:
        found = (self.get(patient_id) for patient_id in patient_ids)
        return {patient.id: patient for patient in found if patient is not None}

    def by_mrns(self, clinic_id: UUID, mrns: set[str]) -> dict[str, Patient]:
        found = {mrn: self.get_by_mrn(clinic_id, mrn) for mrn in mrns}
        return {mrn: patient for mrn, patient in found.items() if patient is not None}

    def taken_ids(self, patient_ids: set[UUID]) -> set[UUID]:
        return set(patient_ids) & set(self.store.patients)

    def update(self, patient: Patient, expected_version: int, now: object) -> None:
        stored = self.store.patients[patient.id]
        if stored.version != expected_version:
            raise StaleVersion("patient", patient.id, expected_version)
        patient.version = expected_version + 1
        self.store.patients[patient.id] = copy.deepcopy(patient)

    def search(self, query: PatientQuery) -> Page[Patient]:
        found = [
            copy.deepcopy(p)
            for p in self.store.patients.values()
            if self.scope.allows(p.clinic_id)
            and (query.mrn is None or mrn_key(p.mrn) == mrn_key(query.mrn))
            and (query.name is None or query.name.lower() in p.display_name.lower())
        ]
        return Page(found[: query.limit])


class FakeEpisodes(_Repo):
    def add(self, episode: Episode) -> None:
        self.store.episodes[episode.id] = copy.deepcopy(episode)

    def get(self, episode_id: UUID) -> Episode | None:
        episode = self.store.episodes.get(episode_id)
        return copy.deepcopy(episode) if episode and self.scope.allows(episode.clinic_id) else None

    def claim(self, episode_id: UUID) -> Episode | None:
        return self.get(episode_id)  # one process, one worker: nothing else can hold it

    def save(self, episode: Episode, expected_version: int, change: TimelineEntry) -> None:
        if self.store.episodes[episode.id].version != expected_version:
            raise StaleVersion("episode", episode.id, expected_version)
        episode.version = expected_version + 1
        self.store.episodes[episode.id] = copy.deepcopy(episode)
        self.store.timeline.append(change)

    def find(self, query: EpisodeQuery) -> Page[EpisodeSummary]:
        items = [
            EpisodeSummary(copy.deepcopy(e), "X", "MRN", e.opened_at)
            for e in self.store.episodes.values()
            if (query.stage is None or e.stage is query.stage)
            and (not query.open_only or e.stage in OPEN_STAGES)
        ]
        return Page(items[: query.limit])

    def for_patient(self, patient_id: UUID) -> list[Episode]:
        return [
            copy.deepcopy(e) for e in self.store.episodes.values() if e.patient_id == patient_id
        ]

    def count_by_stage(self, clinic_id: UUID | None = None) -> dict[Stage, int]:
        counts: dict[Stage, int] = {}
        for e in self.store.episodes.values():
            counts[e.stage] = counts.get(e.stage, 0) + 1
        return counts

    def timeline(self, episode_id: UUID) -> list[TimelineEntry]:
        return [t for t in self.store.timeline if t.episode_id == episode_id]


class FakeProducts(_Repo):
    def add(self, product: Product) -> None:
        self.store.products[product.id] = copy.deepcopy(product)

    def get(self, product_id: UUID) -> Product | None:
        product = self.store.products.get(product_id)
        return copy.deepcopy(product) if product and self.scope.allows(product.clinic_id) else None

    def save(self, product: Product) -> None:
        product.version += 1
        self.store.products[product.id] = copy.deepcopy(product)

    def available_donor_products(self, clinic_id: UUID) -> list[Product]:
        return [
            copy.deepcopy(p)
            for p in self.store.products.values()
            if p.clinic_id == clinic_id
            and p.source is CellSource.ALLOGENEIC
            and p.status is ProductStatus.RELEASED
            and p.intended_patient_id is None
        ]

    def add_verification(self, verification: BedsideVerification) -> None:
        self.store.verifications.append(verification)

    def latest_verification(self, product_id: UUID) -> BedsideVerification | None:
        mine = [v for v in self.store.verifications if v.product_id == product_id]
        return max(mine, key=lambda v: v.verified_at) if mine else None


class FakeAuditLog:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def append(self, entry: AuditEntry) -> SealedEntry:
        previous = self.store.audit[-1].hash if self.store.audit else GENESIS
        sealed = seal(entry, len(self.store.audit) + 1, previous)
        self.store.audit.append(sealed)
        return sealed

    def chain(self, batch: int = 5_000) -> Iterator[SealedEntry]:
        return iter(list(self.store.audit))

    def head(self) -> tuple[int, str]:
        return (len(self.store.audit), self.store.audit[-1].hash if self.store.audit else GENESIS)


class FakeEvaluations(_Repo):
    def add_assessment(self, recorded: RecordedAssessment) -> None:
        self.store.assessments.append(recorded)

    def assessments(self, episode_id: UUID) -> list[RecordedAssessment]:
        found = [a for a in self.store.assessments if a.episode_id == episode_id]
        return sorted(found, key=lambda a: -a.version)

    def latest_assessment(self, episode_id: UUID) -> RecordedAssessment | None:
        found = self.assessments(episode_id)
        return found[0] if found else None

    def add_decision(self, record: EligibilityRecord) -> None:
        self.store.decisions.append(record)

    def decisions(self, episode_id: UUID) -> list[EligibilityRecord]:
        return [d for d in reversed(self.store.decisions) if d.episode_id == episode_id]

    def add_plan(self, plan: TreatmentPlan) -> None:
        self.store.plans.append(plan)

    def plans(self, episode_id: UUID) -> list[TreatmentPlan]:
        found = [p for p in self.store.plans if p.episode_id == episode_id]
        return sorted(found, key=lambda p: -p.version)

    def latest_plan(self, episode_id: UUID) -> TreatmentPlan | None:
        found = self.plans(episode_id)
        return found[0] if found else None

    def add_consent(self, consent: SignedConsent) -> None:
        self.store.consents.append(consent)

    def save_consent(self, consent: SignedConsent) -> None:
        self.store.consents = [consent if c.id == consent.id else c for c in self.store.consents]

    def consents(self, episode_id: UUID) -> list[SignedConsent]:
        return [c for c in reversed(self.store.consents) if c.episode_id == episode_id]


class FakeUnitOfWork:
    """Commits copy the pending state into the store; leaving without commit drops it."""

    def __init__(self, store: FakeStore | None = None, scope: AccessScope | None = None) -> None:
        self.committed_store = store or FakeStore()
        self.scope = scope or AccessScope()
        self.commits = 0

    def __enter__(self) -> Self:
        self._working = copy.deepcopy(self.committed_store)
        self.clinics = FakeClinics(self._working, self.scope)
        self.patients = FakePatients(self._working, self.scope)
        self.episodes = FakeEpisodes(self._working, self.scope)
        self.products = FakeProducts(self._working, self.scope)
        self.audit = FakeAuditLog(self._working)
        self.evaluations = FakeEvaluations(self._working, self.scope)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        del self._working

    def commit(self) -> None:
        self.committed_store.__dict__.update(copy.deepcopy(self._working).__dict__)
        self.commits += 1

    def rollback(self) -> None:
        self._working = copy.deepcopy(self.committed_store)
