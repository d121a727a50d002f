"""The FHIR facade's use cases: read, search, create, update, Bulk Data export and import.

Resources come from two places. The pathway's own records (patients, episodes, harvests,
injections, products, questionnaire responses and their scores, adverse events, consents) are
shown through the pure mapping in :mod:`regenpath.adapters.fhir.mapping`. Resources that arrive
through FHIR and have no table of their own are kept as validated JSON (``uow.fhir``). A Patient
that arrives becomes a pathway patient; the elements regenpath does not keep (an address) are
kept beside it and shown unchanged.

Every read, search and write is scoped to the caller's clinics by the unit of work and leaves
an audit entry (REC-1, 21 CFR 1271.270).
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from multiprocessing import get_context
from typing import Any, Final
from uuid import UUID

from regenpath.adapters.fhir import mapping, search, systems
from regenpath.adapters.fhir.search import Criterion
from regenpath.adapters.fhir.validation import FhirError, Issue, validate
from regenpath.domain.access import Action, is_permitted
from regenpath.domain.access import Resource as Guarded
from regenpath.domain.audit import AuditAction
from regenpath.domain.errors import InvalidValue
from regenpath.domain.instruments import InstrumentCode, InstrumentLibrary, score
from regenpath.domain.patients import AdministrativeSex, Clinic, Patient
from regenpath.domain.safety import AeCatalogue
from regenpath.services.audit import record, record_search
from regenpath.services.ports import (
    Clock,
    ExportFile,
    ExportJob,
    IdFactory,
    PathwayRecords,
    StoredResource,
    UnitOfWork,
)

Resource = dict[str, Any]

# What each resource type is, for the permission table (domain/access.py).
GUARDS: Final[Mapping[str, Guarded]] = {
    "Patient": Guarded.PATIENT,
    "Organization": Guarded.CLINIC,
    "Practitioner": Guarded.CLINIC,
    "Questionnaire": Guarded.CLINIC,
    "Condition": Guarded.EPISODE,
    "Procedure": Guarded.EPISODE,
    "BiologicallyDerivedProduct": Guarded.PRODUCT,
    "QuestionnaireResponse": Guarded.FOLLOW_UP,
    "Observation": Guarded.FOLLOW_UP,
    "AdverseEvent": Guarded.ADVERSE_EVENT,
    "Consent": Guarded.CONSENT,
}
TYPES: Final = tuple(GUARDS)
# Created and updated through the REST API (the rest are the pathway's records, changed in it).
WRITABLE: Final = frozenset({"Patient", "Observation", "QuestionnaireResponse"})
# The Patient compartment (FHIR R4 compartmentdefinition-patient), for Patient-level export.
PATIENT_COMPARTMENT: Final = (
    "Patient",
    "Condition",
    "Procedure",
    "QuestionnaireResponse",
    "Observation",
    "AdverseEvent",
    "Consent",
)
# Patient data: kept only with the patient it is about, so that it is theirs to see and
# their clinic's alone.
_ABOUT_A_PATIENT: Final = frozenset(PATIENT_COMPARTMENT) - {"Patient"}
# Import order: what a file refers to goes in first.
IMPORT_ORDER: Final = ("Organization", "Practitioner", "Patient", *TYPES)
_SERVER_META: Final = ("versionId", "lastUpdated")


def dumps(resource: Mapping[str, Any]) -> str:
    """One resource as one NDJSON line: compact, in the resource's own key order."""
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _without_server_meta(resource: Mapping[str, Any]) -> Resource:
    clean = dict(resource)
    meta = clean.get("meta")
    if isinstance(meta, Mapping):
        kept = {k: v for k, v in meta.items() if k not in _SERVER_META}
        if kept:
            clean["meta"] = kept
        else:
            del clean["meta"]
    return clean


def _with_meta(resource: Resource, stored: StoredResource | None) -> Resource:
    if stored is None:
        return resource
    meta = dict(resource.get("meta", {}))
    meta["versionId"] = str(stored.version)
    meta["lastUpdated"] = mapping.instant(stored.last_updated)
    return {**resource, "meta": meta}


def reference_target(value: str) -> tuple[str, str] | None:
    """``Patient/12`` or ``http://host/fhir/R4/Patient/12`` -> ("Patient", "12")."""
    parts = value.rstrip("/").split("/")
    # A resource type is a capitalised name: "Patient", or one this server does not keep.
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return parts[-2], parts[-1]
    return None


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


@dataclass
class Bundle:
    total: int
    matches: list[Resource]
    included: list[Resource]
    offset: int
    count: int


@dataclass
class ImportResult:
    """What one file did: resources new, changed and unchanged, per type."""

    added: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    patients: set[UUID] = field(default_factory=set)

    def count(self, bucket: dict[str, int], resource_type: str) -> None:
        bucket[resource_type] = bucket.get(resource_type, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.added.values()) + sum(self.changed.values()) + sum(self.unchanged.values())


@dataclass
class _Incoming:
    """One resource on its way in, after validation and reference resolution."""

    resource: Resource
    clinic_id: UUID
    patient_id: UUID | None


class FhirServer:
    def __init__(
        self,
        clock: Clock,
        new_id: IdFactory,
        instruments: InstrumentLibrary,
        catalogue: AeCatalogue,
    ) -> None:
        self.clock = clock
        self.new_id = new_id
        self.instruments = instruments
        self.catalogue = catalogue
        self.score_codes = frozenset(
            f"{code.value}-{name}"
            for code, instrument in instruments.instruments.items()
            for name in instrument.score_names
        )

    # ------------------------------------------------------------------ projection

    def questionnaires(self) -> list[Resource]:
        return [mapping.questionnaire(i) for i in self.instruments.instruments.values()]

    def project(  # noqa: PLR0912 -- one branch per resource type, read as a table
        self, records: PathwayRecords, types: Iterable[str]
    ) -> dict[tuple[str, str], Resource]:
        """The pathway's records as resources, keyed by (type, id)."""
        wanted = set(types)
        found: list[Resource] = []

        def ref(patient_id: UUID) -> str:
            return f"Patient/{records.patient_resource_ids.get(patient_id, str(patient_id))}"

        episodes = {episode.id: episode for episode in records.episodes}
        if "Organization" in wanted:
            found += [mapping.organization(clinic) for clinic in records.clinics]
        if "Practitioner" in wanted:
            found += [mapping.practitioner(user) for user in records.staff]
        if "Patient" in wanted:
            found += [
                mapping.patient(p, records.patient_resource_ids.get(p.id)) for p in records.patients
            ]
        if "Condition" in wanted:
            found += [mapping.condition(e, ref(e.patient_id)) for e in records.episodes]
        if "Procedure" in wanted:
            for harvest in records.harvests:
                episode = episodes[harvest.episode_id]
                found.append(mapping.harvest_procedure(harvest, episode, ref(episode.patient_id)))
            for injection in records.injections:
                episode = episodes[injection.episode_id]
                found.append(
                    mapping.injection_procedure(injection, episode, ref(episode.patient_id))
                )
        if "BiologicallyDerivedProduct" in wanted:
            for product in records.products:
                owner = product.intended_patient_id
                found.append(
                    mapping.biologically_derived_product(product, ref(owner) if owner else None)
                )
        if "Questionnaire" in wanted:
            found += self.questionnaires()
        for response in records.responses:
            patient_ref = ref(response.patient_id)
            qr = mapping.questionnaire_response(response, patient_ref)
            if "QuestionnaireResponse" in wanted:
                found.append(qr)
            if "Observation" in wanted and response.completed_at and response.scores:
                instrument = self.instruments[InstrumentCode(response.instrument)]
                found += mapping.score_observations(
                    str(response.id), instrument, response.scores, qr["authored"], patient_ref
                )
        if "AdverseEvent" in wanted:
            for event in records.adverse_events:
                episode = episodes[event.episode_id]
                harvests = tuple(h.id for h in records.harvests if h.episode_id == episode.id)
                injections = tuple(i.id for i in records.injections if i.episode_id == episode.id)
                found.append(
                    mapping.adverse_event(event, ref(episode.patient_id), harvests, injections)
                )
        if "Consent" in wanted:
            for consent in records.consents:
                episode = episodes[consent.episode_id]
                found.append(mapping.consent(consent, ref(episode.patient_id)))
        return {(r["resourceType"], r["id"]): r for r in found}

    def resources(
        self,
        uow: UnitOfWork,
        resource_type: str,
        patient_ids: Sequence[UUID] | None = None,
        since: datetime | None = None,
        meta: bool = True,
    ) -> list[Resource]:
        """Every resource of one type in scope: projected records, then the stored ones."""
        records = uow.fhir.pathway_records(self.catalogue, {resource_type}, patient_ids)
        projected = self.project(records, {resource_type})
        stored = uow.fhir.find(resource_type, patient_ids)
        result: dict[str, Resource] = {}
        for (_, resource_id), resource in projected.items():
            if since is not None and not _changed_since(resource, since):
                continue
            result[resource_id] = resource
        for row in stored:
            if since is not None and row.last_updated <= since and row.resource_id not in result:
                continue
            content = json.loads(row.content)
            own = projected.get((resource_type, row.resource_id))
            if own is not None:
                content = _overlay(content, own)
            result[row.resource_id] = _with_meta(content, row) if meta else content
        return [result[k] for k in sorted(result)]

    # ------------------------------------------------------------------------ read

    def read(self, uow: UnitOfWork, resource_type: str, resource_id: str) -> Resource:
        with uow:
            found = self._find(uow, resource_type, resource_id)
            if found is None:
                raise FhirError.one(404, "not-found", f"{resource_type}/{resource_id} is not here")
            record(
                uow,
                self.clock,
                AuditAction.READ,
                f"fhir:{resource_type}",
                resource_id,
                self._default_clinic(uow),
            )
            uow.commit()
        return found

    def _find(self, uow: UnitOfWork, resource_type: str, resource_id: str) -> Resource | None:
        """One resource by type and id: a stored one, or the pathway record it shows (loaded
        by its id, so a read costs the same in a clinic of ten or of ten thousand)."""
        if resource_type not in GUARDS:
            return None
        stored = uow.fhir.get(resource_type, resource_id)
        if stored is not None and resource_type != "Patient":
            return _with_meta(json.loads(stored.content), stored)
        if resource_type == "Questionnaire":
            return next((q for q in self.questionnaires() if q["id"] == resource_id), None)
        record_id = stored.patient_id if stored else _uuid(resource_id[:36])
        if record_id is None:
            return None
        records = uow.fhir.pathway_records(
            self.catalogue,
            {resource_type},
            [record_id] if resource_type == "Patient" else None,
            [record_id],
        )
        projected = self.project(records, {resource_type}).get((resource_type, resource_id))
        if stored is None:
            return projected
        content = json.loads(stored.content)
        if projected is not None:
            content = _overlay(content, projected)
        return _with_meta(content, stored)

    # ---------------------------------------------------------------------- search

    def search(
        self, uow: UnitOfWork, resource_type: str, query: Sequence[tuple[str, str]]
    ) -> Bundle:
        if resource_type not in GUARDS:
            raise FhirError.one(404, "not-supported", f"{resource_type} is not served here")
        criteria = search.criteria(resource_type, query)
        params = dict(query)
        count = search.count_of(params.get("_count"))
        offset = _offset(params.get("_offset"))
        with uow:
            patient_ids = self._patients_named(uow, resource_type, criteria)
            candidates = (
                [] if patient_ids == [] else self.resources(uow, resource_type, patient_ids)
            )
            matches = [r for r in candidates if all(search.matches(r, c) for c in criteria)]
            matches = search.sort(resource_type, matches, params.get("_sort"))
            page = matches[offset : offset + count]
            includes = [value for key, value in query if key == "_include"]
            included = self._included(uow, resource_type, includes, page)
            record_search(
                uow,
                self.clock,
                f"fhir:{resource_type}",
                self._default_clinic(uow),
                {key: value for key, value in query if not key.startswith("_")},
                found=len(page),
            )
            uow.commit()
        return Bundle(len(matches), page, included, offset, count)

    def _patients_named(
        self, uow: UnitOfWork, resource_type: str, criteria: Sequence[Criterion]
    ) -> list[UUID] | None:
        """The pathway patients a ``patient``/``subject`` criterion names, so only their
        records are loaded; ``None``: the search names no patient."""
        for criterion in criteria:
            if (
                criterion.param.kind == "reference"
                and criterion.param.paths in (("subject",), ("patient",))
                and criterion.modifier is None
            ):
                found: list[UUID] = []
                for alternative in criterion.alternatives:
                    target = alternative.rsplit("/", 1)[-1]
                    patient = self._patient_by_resource_id(uow, target)
                    if patient is not None:
                        found.append(patient)
                return found
        if resource_type == "Patient":
            for criterion in criteria:
                if criterion.name == "_id" and criterion.modifier is None:
                    ids = [self._patient_by_resource_id(uow, a) for a in criterion.alternatives]
                    return [i for i in ids if i is not None]
        return None

    def _patient_by_resource_id(self, uow: UnitOfWork, resource_id: str) -> UUID | None:
        stored = uow.fhir.get("Patient", resource_id)
        if stored is not None:
            return stored.patient_id
        patient_id = _uuid(resource_id)
        if patient_id is not None and uow.patients.get(patient_id) is not None:
            return patient_id
        return None

    def _included(
        self, uow: UnitOfWork, resource_type: str, specs: Sequence[str], page: list[Resource]
    ) -> list[Resource]:
        """``_include``: the referenced resources the caller may read too (the route checked
        only the searched type's permission)."""
        included = []
        roles = uow.scope.roles
        for target in search.include_targets(resource_type, specs, page):
            kind, _, target_id = target.partition("/")
            guarded = GUARDS.get(kind)
            if guarded is None or (
                roles is not None
                and not any(is_permitted(r, Action.READ, guarded) for r in roles.values())
            ):
                continue
            resource = self._find(uow, kind, target_id)
            if resource is not None:
                included.append(resource)
        return included

    # ----------------------------------------------------------------------- write

    def create(self, uow: UnitOfWork, resource_type: str, body: Resource) -> Resource:
        self._writable(resource_type)
        validate(body, resource_type, self.score_codes)
        resource = _without_server_meta(body)
        resource["id"] = str(self.new_id())
        return self._write(uow, resource, created=True)

    def update(
        self,
        uow: UnitOfWork,
        resource_type: str,
        resource_id: str,
        body: Resource,
        if_match: str | None = None,
    ) -> tuple[Resource, bool]:
        """Replace a resource (or create it with the client's id); returns (resource, created).
        ``if_match``: the version the client read (``W/"3"``); another one is a 412."""
        self._writable(resource_type)
        validate(body, resource_type, self.score_codes)
        if body.get("id") != resource_id:
            raise FhirError.one(
                400, "invalid", f"the body's id must be {resource_id!r}, as in the URL", "id"
            )
        resource = _without_server_meta(body)
        with uow:
            existing = self._find(uow, resource_type, resource_id)
            stored = uow.fhir.get(resource_type, resource_id)
        if if_match is not None and (
            stored is None or if_match.strip().removeprefix("W/").strip('"') != str(stored.version)
        ):
            raise FhirError.one(
                412,
                "conflict",
                f"{resource_type}/{resource_id} is not at version {if_match}: read it again",
            )
        if existing is not None and stored is None and resource_type != "Patient":
            raise FhirError.one(
                409,
                "conflict",
                f"{resource_type}/{resource_id} is regenpath's own record (a score is derived"
                " from its questionnaire response): change it in regenpath",
            )
        return self._write(uow, resource, created=existing is None), existing is None

    def _writable(self, resource_type: str) -> None:
        if resource_type not in GUARDS:
            raise FhirError.one(404, "not-supported", f"{resource_type} is not served here")
        if resource_type not in WRITABLE:
            raise FhirError.one(
                405,
                "not-supported",
                f"{resource_type} resources are the pathway's own records: record them in"
                " regenpath, or send them with the Bulk Data import",
            )

    def _write(self, uow: UnitOfWork, resource: Resource, *, created: bool) -> Resource:
        resource_type = resource["resourceType"]
        with uow:
            result = ImportResult()
            extra: list[Resource] = []
            incoming = self._resolve(uow, resource, self._default_clinic(uow), {})
            if resource_type == "QuestionnaireResponse":
                extra = self._scores(incoming)
            # A pathway record is never replaced through FHIR: update() refused those already,
            # and what create() names is new.
            self._ingest(uow, [incoming], {}, result)
            for observation in extra:
                self._ingest(
                    uow,
                    [_Incoming(observation, incoming.clinic_id, incoming.patient_id)],
                    {},
                    result,
                )
            record(
                uow,
                self.clock,
                AuditAction.CREATE if created else AuditAction.UPDATE,
                f"fhir:{resource_type}",
                resource["id"],
                incoming.clinic_id,
                detail=f"{len(extra)} score observations" if extra else None,
            )
            found = self._find(uow, resource_type, resource["id"])
            uow.commit()
        assert found is not None
        return found

    def _default_clinic(self, uow: UnitOfWork) -> UUID | None:
        """The clinic a resource that names none belongs to: the caller's only clinic (or, for
        the command line, the database's only clinic)."""
        clinics = uow.scope.clinic_ids
        if clinics is None:
            clinics = frozenset(c.id for c in uow.clinics.all())
        return next(iter(clinics)) if len(clinics) == 1 else None

    def _scores(self, incoming: _Incoming) -> list[Resource]:
        """A completed response to one of regenpath's questionnaires is scored by the
        instrument's published rules; each score becomes an Observation derived from it."""
        response = incoming.resource
        url = str(response.get("questionnaire", "")).split("|")[0]
        code = url.removeprefix(systems.questionnaire_url(""))
        if url == code or code not in {c.value for c in InstrumentCode}:
            return []
        if response.get("status") != "completed":
            return []
        instrument = self.instruments[InstrumentCode(code)]
        answers: dict[str, int] = {}
        for index, item in enumerate(response.get("item", [])):
            for answer in item.get("answer", [])[:1]:
                value = answer.get("valueCoding", {}).get("code", answer.get("valueInteger"))
                try:
                    answers[item["linkId"]] = int(value)
                except (TypeError, ValueError):
                    raise FhirError.one(
                        422,
                        "value",
                        f"the answer to {item['linkId']!r} must be a box number",
                        f"QuestionnaireResponse.item[{index}].answer[0]",
                    ) from None
        try:
            scored = score(instrument, answers)
        except InvalidValue as error:
            raise FhirError.one(
                422,
                "value",
                error.message,
                f"QuestionnaireResponse.item.where(linkId='{error.field}')",
            ) from None
        subject = response["subject"]["reference"]
        effective = response.get("authored") or mapping.instant(self.clock.now())
        return mapping.score_observations(
            response["id"], instrument, scored.values, effective, subject
        )

    # ---------------------------------------------------------------------- ingest

    def _projected_index(
        self, uow: UnitOfWork, types: Iterable[str]
    ) -> dict[tuple[str, str], Resource]:
        records = uow.fhir.pathway_records(self.catalogue, set(types))
        return self.project(records, types)

    def _resolve(
        self,
        uow: UnitOfWork,
        resource: Resource,
        clinic_id: UUID | None,
        batch_patients: dict[str, tuple[UUID, UUID]],
    ) -> _Incoming:
        """Find the clinic and the pathway patient a resource belongs to; a reference to a
        patient outside the caller's clinics is refused like one to no patient at all."""
        resource_type = resource["resourceType"]
        if resource_type == "Organization":
            own = _uuid(resource.get("id", ""))
            if own is None:
                raise FhirError.one(
                    422,
                    "value",
                    "an Organization here is a clinic: its id is a UUID",
                    "Organization.id",
                )
            return _Incoming(resource, own, None)
        if resource_type == "Patient":
            managing = resource.get("managingOrganization", {}).get("reference")
            target = reference_target(managing) if isinstance(managing, str) else None
            named = _uuid(target[1]) if target and target[0] == "Organization" else None
            clinic = named or clinic_id
            if clinic is None or not uow.scope.allows(clinic):
                raise FhirError.one(
                    422,
                    "invalid",
                    "name the patient's clinic in managingOrganization (one of yours)",
                    "Patient.managingOrganization",
                )
            return _Incoming(resource, clinic, None)
        for element in ("subject", "patient"):
            value = resource.get(element)
            if not isinstance(value, Mapping) or not isinstance(value.get("reference"), str):
                continue
            found = self._patient_reference(
                uow, value["reference"], batch_patients, f"{resource_type}.{element}.reference"
            )
            if found is None:
                continue
            patient_id, clinic, resource_id = found
            resource[element] = {**value, "reference": f"Patient/{resource_id}"}
            return _Incoming(resource, clinic, patient_id)
        if clinic_id is None or resource_type in _ABOUT_A_PATIENT:
            element = "patient" if resource_type == "Consent" else "subject"
            raise FhirError.one(
                422,
                "required",
                f"a {resource_type} here is about a patient of your clinic: name them",
                f"{resource_type}.{element}",
            )
        return _Incoming(resource, clinic_id, None)

    def _patient_reference(
        self,
        uow: UnitOfWork,
        reference: str,
        batch_patients: dict[str, tuple[UUID, UUID]],
        expression: str,
    ) -> tuple[UUID, UUID, str] | None:
        """(pathway patient, clinic, the Patient's resource id) a reference names; ``None``
        when it names no Patient; refused when it names one the caller does not have."""
        if reference.startswith("Patient?identifier="):
            # A conditional reference (Synthea bundles): the patient with that MRN.
            token = reference.removeprefix("Patient?identifier=")
            system, _, value = token.rpartition("|")  # no "|": the value alone, any system
            for clinic in uow.scope.clinic_ids or {c.id for c in uow.clinics.all()}:
                if system in ("", systems.mrn_system(clinic)):
                    patient = uow.patients.get_by_mrn(clinic, value)
                    if patient is not None:
                        imported = uow.fhir.find("Patient", [patient.id])
                        shown = imported[0].resource_id if imported else str(patient.id)
                        return patient.id, patient.clinic_id, shown
            raise FhirError.one(
                422, "not-found", f"no patient of your clinics has {reference!r}", expression
            )
        target = reference_target(reference)
        if target is None or target[0] != "Patient":
            return None
        if target[1] not in batch_patients:
            self._preload_patients(uow, [target[1]], batch_patients)
        if target[1] not in batch_patients:
            raise FhirError.one(
                422, "not-found", f"{reference} is not a patient of your clinic", expression
            )
        patient_id, clinic = batch_patients[target[1]]
        return patient_id, clinic, target[1]

    def _preload_patients(
        self,
        uow: UnitOfWork,
        resource_ids: Iterable[str],
        batch_patients: dict[str, tuple[UUID, UUID]],
    ) -> None:
        """Resolve many Patient ids at once (a query or two per chunk of an import, not one
        per resource): ids of imported Patients first, then the pathway's own patient ids."""
        wanted = {r for r in resource_ids if r not in batch_patients}
        if not wanted:
            return
        for resource_id, stored in uow.fhir.owners("Patient", wanted).items():
            if stored.patient_id is not None and uow.scope.allows(stored.clinic_id):
                batch_patients[resource_id] = (stored.patient_id, stored.clinic_id)
        by_uuid = {u: r for r in wanted - set(batch_patients) if (u := _uuid(r)) is not None}
        for patient in uow.patients.get_many(list(by_uuid)).values():
            batch_patients[by_uuid[patient.id]] = (patient.id, patient.clinic_id)

    def _ingest(
        self,
        uow: UnitOfWork,
        batch: Sequence[_Incoming],
        projected: Mapping[tuple[str, str], Resource],
        result: ImportResult,
    ) -> None:
        """Store a batch of resolved resources of one type: new ones inserted, changed ones
        updated, identical ones left alone (so importing a file twice changes nothing)."""
        if not batch:
            return
        resource_type = batch[0].resource["resourceType"]
        now = self.clock.now()
        owners = uow.fhir.owners(resource_type, [i.resource["id"] for i in batch])
        added: list[StoredResource] = []
        changed: list[StoredResource] = []
        patients = self._patients(uow, batch, owners, now) if resource_type == "Patient" else []
        for index, incoming in enumerate(batch):
            resource = incoming.resource
            resource_id = resource["id"]
            if resource_type == "Organization":
                created = self._clinic(uow, resource, projected)
                result.count(result.added if created else result.unchanged, resource_type)
                continue
            previous = owners.get(resource_id)
            if resource_type == "Patient":
                patient, outcome = patients[index]
                incoming.patient_id = patient.id
                result.patients.add(patient.id)
                if previous is None and _plain(resource, patient):
                    # The record says it all: nothing to keep beside it.
                    result.count(getattr(result, outcome), resource_type)
                    continue
            own = projected.get((resource_type, resource_id))
            if own is not None and resource_type != "Patient":
                if own == resource:
                    result.count(result.unchanged, resource_type)
                    continue
                raise FhirError.one(
                    409,
                    "conflict",
                    f"{resource_type}/{resource_id} is regenpath's own record: change it in"
                    " regenpath, not by import",
                )
            text = dumps(resource)
            digest = _digest(text)
            if previous is not None and previous.clinic_id != incoming.clinic_id:
                raise FhirError.one(
                    409, "conflict", f"{resource_type}/{resource_id} belongs to another clinic"
                )
            if incoming.patient_id is not None:
                result.patients.add(incoming.patient_id)
            if previous is None:
                added.append(
                    StoredResource(
                        resource_type,
                        resource_id,
                        incoming.clinic_id,
                        incoming.patient_id,
                        1,
                        now,
                        text,
                        digest,
                    )
                )
                result.count(result.added, resource_type)
            elif previous.content_hash != digest:
                changed.append(
                    replace(
                        previous,
                        patient_id=incoming.patient_id,
                        version=previous.version + 1,
                        last_updated=now,
                        content=text,
                        content_hash=digest,
                    )
                )
                result.count(result.changed, resource_type)
            else:
                result.count(result.unchanged, resource_type)
        uow.fhir.write(added, changed)

    def _clinic(
        self, uow: UnitOfWork, resource: Resource, projected: Mapping[tuple[str, str], Resource]
    ) -> bool:
        """An Organization is a clinic. The command line, which acts for every clinic, may
        create it (True); the clinic's own record is changed in regenpath, never by import."""
        clinic_id = UUID(resource["id"])
        own = projected.get(("Organization", resource["id"]))
        if own is not None:
            if own != resource:
                raise FhirError.one(
                    409, "conflict", f"Organization/{clinic_id} differs from the clinic's record"
                )
            return False
        if uow.scope.clinic_ids is not None:
            raise FhirError.one(
                422,
                "invalid",
                f"Organization/{clinic_id} is not one of your clinics",
                "Organization.id",
            )
        time_zone = next(
            (
                e.get("valueString")
                for e in resource.get("extension", [])
                if e.get("url") == systems.TIME_ZONE
            ),
            "UTC",
        )
        phone = next(
            (t.get("value") for t in resource.get("telecom", []) if t.get("system") == "phone"),
            None,
        )
        uow.clinics.add(
            Clinic(
                id=clinic_id,
                name=resource.get("name") or str(clinic_id),
                time_zone=time_zone,
                created_at=self.clock.now(),
                phone=phone,
            )
        )
        return True

    def _patients(
        self,
        uow: UnitOfWork,
        batch: Sequence[_Incoming],
        owners: Mapping[str, StoredResource],
        now: datetime,
    ) -> list[tuple[Patient, str]]:
        """The pathway patients behind a batch of Patient resources, created or corrected to
        match them, with what happened to each (``added``, ``changed``, ``unchanged``). The
        lookups and the inserts go a batch at a time."""
        details = [_patient_details(i.resource, i.clinic_id) for i in batch]
        known = [
            owners[i.resource["id"]].patient_id
            if i.resource["id"] in owners
            else _uuid(i.resource["id"])
            for i in batch
        ]
        current = uow.patients.get_many([k for k in known if k is not None])
        by_mrn: dict[tuple[UUID, str], Patient] = {}
        for clinic in {i.clinic_id for i in batch}:
            mrns = [d["mrn"] for d, i in zip(details, batch, strict=True) if i.clinic_id == clinic]
            for mrn, patient in uow.patients.by_mrns(clinic, mrns).items():
                by_mrn[(clinic, mrn)] = patient
        taken = uow.patients.taken_ids([k for k in known if k is not None and k not in current])
        outcomes: list[tuple[Patient, str]] = []
        new: list[Patient] = []
        for incoming, fields, own in zip(batch, details, known, strict=True):
            resource_id = incoming.resource["id"]
            existing = current.get(own) if own else None
            holder = by_mrn.get((incoming.clinic_id, fields["mrn"]))
            if holder is not None and (existing is None or holder.id != existing.id):
                raise FhirError.one(
                    409,
                    "duplicate",
                    f"the medical record number {fields['mrn']} belongs to another patient",
                    "Patient.identifier",
                )
            if existing is None:
                # A UUID that names no record yet becomes the record's id, so the resource keeps
                # its id; any other id is kept beside a new record.
                free = own is not None and resource_id not in owners and own not in taken
                patient = Patient(
                    id=own if free and own else self.new_id(),
                    clinic_id=incoming.clinic_id,
                    created_at=now,
                    **fields,
                )
                _checked(patient, now)
                new.append(patient)
                by_mrn[(incoming.clinic_id, patient.mrn)] = patient
                taken.add(patient.id)
                outcomes.append((patient, "added"))
                continue
            updated = replace(existing, **fields)
            if updated == existing:
                outcomes.append((existing, "unchanged"))
                continue
            _checked(updated, now)
            uow.patients.update(updated, existing.version, now)
            outcomes.append((updated, "changed"))
        uow.patients.add_many(new)
        return outcomes

    # ------------------------------------------------------------------ bulk data

    def export_types(self, level: str, requested: str | None) -> tuple[str, ...]:
        """``_type``: the types asked for, in the order served; the default is every type the
        level covers (a Patient-level export covers the Patient compartment)."""
        allowed = PATIENT_COMPARTMENT if level == "patient" else TYPES
        if not requested:
            return tuple(allowed)
        asked = [t.strip() for t in requested.split(",") if t.strip()]
        unknown = [t for t in asked if t not in allowed]
        if unknown:
            raise FhirError.one(
                400, "not-supported", f"cannot export {', '.join(unknown)} here", "_type"
            )
        return tuple(t for t in allowed if t in asked)

    def start_export(
        self,
        uow: UnitOfWork,
        level: str,
        types: tuple[str, ...],
        since: datetime | None,
        request_url: str,
        group_id: UUID | None = None,
    ) -> ExportJob:
        with uow:
            clinics = uow.scope.clinic_ids
            if clinics is None:
                clinics = frozenset(c.id for c in uow.clinics.all())
            if group_id is not None:
                if group_id not in clinics:
                    raise FhirError.one(404, "not-found", f"Group/{group_id} is not here")
                clinics = frozenset({group_id})
            job = ExportJob(
                id=self.new_id(),
                requested_by=uow.scope.actor,
                clinic_ids=tuple(sorted(clinics, key=str)),
                level=level,
                types=types,
                since=since,
                request_url=request_url,
                requested_at=self.clock.now(),
            )
            uow.fhir.add_export(job)
            record(
                uow,
                self.clock,
                AuditAction.CREATE,
                "fhir:export",
                job.id,
                group_id,
                detail=f"{level} export of {', '.join(types)}",
            )
            uow.commit()
        return job

    def run_export(self, uow_for: Callable[[ExportJob], UnitOfWork], job: ExportJob) -> None:
        """Write the job's NDJSON files; ``uow_for`` gives a unit of work scoped to the
        clinics the requester could read when they asked."""
        uow = uow_for(job)
        with uow:
            job = replace(job, status="in-progress")
            uow.fhir.save_export(job)
            uow.commit()
        try:
            with uow:
                files = []
                for resource_type in job.types:
                    found = self.resources(uow, resource_type, since=job.since, meta=False)
                    if job.level == "patient" and resource_type != "Patient":
                        found = [r for r in found if _patient_bound(r)]
                    lines = "".join(dumps(r) + "\n" for r in found)
                    files.append(ExportFile(job.id, resource_type, len(found), lines))
                uow.fhir.add_export_files(files)
                uow.fhir.save_export(replace(job, status="completed", finished_at=self.clock.now()))
                record(
                    uow,
                    self.clock,
                    AuditAction.READ,
                    "fhir:export",
                    job.id,
                    job.clinic_ids[0] if len(job.clinic_ids) == 1 else None,
                    detail=", ".join(f"{f.count} {f.resource_type}" for f in files),
                )
                uow.commit()
        except Exception as error:
            with uow:
                uow.fhir.save_export(
                    replace(job, status="failed", finished_at=self.clock.now(), error=str(error))
                )
                uow.commit()
            raise

    def export_job(self, uow: UnitOfWork, job_id: UUID) -> tuple[ExportJob, list[tuple[str, int]]]:
        """A job and its files, for the one who asked for it (anyone else: not found)."""
        with uow:
            job = uow.fhir.get_export(job_id)
            if job is None or job.requested_by != uow.scope.actor:
                raise FhirError.one(404, "not-found", f"no export {job_id} of yours")
            return job, uow.fhir.export_files(job_id)

    def export_file(self, uow: UnitOfWork, job_id: UUID, resource_type: str) -> ExportFile:
        with uow:
            job = uow.fhir.get_export(job_id)
            found = uow.fhir.export_file(job_id, resource_type) if job else None
            if job is None or found is None or job.requested_by != uow.scope.actor:
                raise FhirError.one(404, "not-found", f"no {resource_type} file in export {job_id}")
            record(
                uow,
                self.clock,
                AuditAction.READ,
                "fhir:export-file",
                job_id,
                None,
                detail=f"{found.count} {resource_type}",
            )
            uow.commit()
        return found

    def export_ndjson(
        self, uow: UnitOfWork, types: Sequence[str], since: datetime | None = None
    ) -> dict[str, list[str]]:
        """An export written at once, for the command line: NDJSON lines per type."""
        with uow:
            files = {
                t: [dumps(r) for r in self.resources(uow, t, since=since, meta=False)]
                for t in types
            }
            record(
                uow,
                self.clock,
                AuditAction.READ,
                "fhir:export",
                None,
                None,
                detail=", ".join(f"{len(lines)} {t}" for t, lines in files.items()),
            )
            uow.commit()
        return files

    def import_resources(
        self,
        uow: UnitOfWork,
        lines: Iterable[tuple[int, str]],
        clinic_id: UUID | None,
        source: str,
        progress: Callable[[int], None] | None = None,
        workers: int = 0,
    ) -> ImportResult:
        """Import one NDJSON file in one transaction, so an error on any line, or a crash,
        leaves nothing of the file behind. ``lines``: (line number, text); blank lines are
        skipped. Lines go in chunks: each is validated, resolved and written as a batch; a
        resource may refer to a patient on an earlier line or already here. ``workers``:
        processes that validate chunks while this one writes (validation is the costly part,
        the FHIR R4 specification); 0 validates here."""
        result = ImportResult()
        with uow, _validated_chunks(lines, self.score_codes, workers) as chunks:
            clinic = clinic_id or self._default_clinic(uow)
            projected: dict[str, dict[tuple[str, str], Resource]] = {}
            batch_patients: dict[str, tuple[UUID, UUID]] = {}
            for chunk in chunks:
                by_type: dict[str, list[tuple[int, Resource]]] = {}
                for number, resource in chunk:
                    by_type.setdefault(resource["resourceType"], []).append((number, resource))
                for resource_type in (t for t in IMPORT_ORDER if t in by_type):
                    if resource_type not in projected:
                        wanted = set() if resource_type == "Patient" else {resource_type}
                        projected[resource_type] = self._projected_index(uow, wanted)
                    batch = []
                    self._preload_patients(
                        uow,
                        (
                            target[1]
                            for _, r in by_type[resource_type]
                            for element in ("subject", "patient")
                            if isinstance(r.get(element), Mapping)
                            and (target := reference_target(str(r[element].get("reference"))))
                            and target[0] == "Patient"
                        ),
                        batch_patients,
                    )
                    for number, resource in by_type.pop(resource_type):
                        try:
                            batch.append(self._resolve(uow, resource, clinic, batch_patients))
                        except FhirError as error:
                            raise _at_line(error, number) from None
                    self._ingest(uow, batch, projected[resource_type], result)
                    if resource_type == "Patient":
                        for incoming in batch:
                            assert incoming.patient_id is not None
                            batch_patients[incoming.resource["id"]] = (
                                incoming.patient_id,
                                incoming.clinic_id,
                            )
                if progress is not None:
                    progress(len(chunk))
            if result.total >= _ANALYZE_AFTER:
                uow.fhir.refresh_statistics()
            record(
                uow,
                self.clock,
                AuditAction.CREATE,
                "fhir:import",
                source[:200],
                clinic,
                detail=_import_detail(result),
            )
            uow.commit()
        return result


_IMPORT_CHUNK: Final = 2_000
_ANALYZE_AFTER: Final = 10_000  # resources in one file


def parse_line(number: int, text: str, score_codes: frozenset[str]) -> Resource:
    """One NDJSON line: JSON, a valid R4 resource of a type kept here, with its id."""
    try:
        resource = json.loads(text)
    except ValueError as error:
        raise _at_line(FhirError.one(400, "structure", f"not JSON: {error}"), number) from None
    if not isinstance(resource, dict):
        raise _at_line(FhirError.one(400, "structure", "a line must be one resource"), number)
    try:
        validate(resource, None, score_codes)
    except FhirError as error:
        raise _at_line(error, number) from None
    if resource["resourceType"] not in GUARDS:
        raise _at_line(
            FhirError.one(422, "not-supported", f"{resource['resourceType']} is not kept here"),
            number,
        )
    if not isinstance(resource.get("id"), str):
        raise _at_line(
            FhirError.one(422, "required", "an imported resource needs its id", "id"), number
        )
    return _without_server_meta(resource)


_Parsed = list[tuple[int, Resource]]


def _parse_chunk(
    chunk: list[tuple[int, str]], score_codes: frozenset[str]
) -> _Parsed | tuple[int, list[Issue]]:
    """A worker's part: the chunk's resources, or the first error as plain values (an
    exception would not survive the trip back between processes)."""
    try:
        return [(number, parse_line(number, text, score_codes)) for number, text in chunk]
    except FhirError as error:
        return error.status, error.issues


@contextmanager
def _validated_chunks(
    lines: Iterable[tuple[int, str]], score_codes: frozenset[str], workers: int
) -> Iterator[Iterator[_Parsed]]:
    """Chunks of parsed, validated lines, in file order; with ``workers``, validated in that
    many processes, a few chunks ahead of the writer and no further (memory stays bounded)."""
    if workers <= 0:
        yield (_raised(_parse_chunk(c, score_codes)) for c in _chunked(lines, _IMPORT_CHUNK))
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:

        def ahead() -> Iterator[_Parsed]:
            pending: deque[Future[_Parsed | tuple[int, list[Issue]]]] = deque()
            for chunk in _chunked(lines, _IMPORT_CHUNK):
                pending.append(pool.submit(_parse_chunk, chunk, score_codes))
                if len(pending) > 2 * workers:
                    yield _raised(pending.popleft().result())
            while pending:
                yield _raised(pending.popleft().result())

        yield ahead()


def _raised(parsed: _Parsed | tuple[int, list[Issue]]) -> _Parsed:
    if isinstance(parsed, tuple):
        raise FhirError(parsed[0], parsed[1])
    return parsed


def _chunked(lines: Iterable[tuple[int, str]], size: int) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    for number, text in lines:
        if text.strip():
            chunk.append((number, text))
            if len(chunk) == size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _patient_bound(resource: Resource) -> bool:
    return any(
        isinstance(resource.get(e), Mapping)
        and str(resource[e].get("reference", "")).startswith("Patient/")
        for e in ("subject", "patient")
    )


def _plain(resource: Resource, patient: Patient) -> bool:
    """Whether a Patient says nothing the record does not: same id, only the record's
    elements, and the same values."""
    return resource["id"] == str(patient.id) and mapping.patient(patient) == resource


def _checked(patient: Patient, now: datetime) -> None:
    try:
        patient.validate(today=now.date())
    except InvalidValue as error:
        raise FhirError.one(422, "value", error.message, _patient_element(error.field)) from None


def _at_line(error: FhirError, number: int) -> FhirError:
    return FhirError(
        error.status,
        [
            Issue(i.code, f"line {number}: {i.diagnostics}", i.expression, i.severity)
            for i in error.issues
        ],
    )


def _import_detail(result: ImportResult) -> str:
    def part(bucket: Mapping[str, int]) -> str:
        return ", ".join(f"{n} {t}" for t, n in sorted(bucket.items())) or "none"

    return (
        f"added {part(result.added)}; changed {part(result.changed)}; unchanged"
        f" {sum(result.unchanged.values())}; {len(result.patients)} patients"
    )[:2000]


def _offset(raw: str | None) -> int:
    try:
        return max(0, int(raw or 0))
    except ValueError:
        raise FhirError.one(
            400, "value", f"_offset must be a whole number, not {raw!r}", "_offset"
        ) from None


def _overlay(stored: Resource, projected: Resource) -> Resource:
    """An imported Patient as regenpath shows it: its own elements, with the ones regenpath
    keeps in the record (name, birth date, MRN...) as the record has them now."""
    shown = {k: v for k, v in stored.items() if k not in mapping.PATIENT_ELEMENTS or k == "id"}
    for key, value in projected.items():
        if key in mapping.PATIENT_ELEMENTS:
            shown[key] = value
    order = list(stored) + [k for k in projected if k not in stored]
    return {k: shown[k] for k in order if k in shown}


def _changed_since(resource: Resource, since: datetime) -> bool:
    """Whether a pathway record changed after ``since``: known for questionnaire responses
    and their scores (they carry when they were last answered); every other record counts
    as changed, because its table does not say when it last changed."""
    stamp = (
        resource.get("authored") if resource["resourceType"] == "QuestionnaireResponse" else None
    )
    if resource["resourceType"] == "Observation":
        stamp = resource.get("effectiveDateTime")
    if stamp is None:
        return True
    return search.date_range(stamp)[0] > since


def _patient_details(resource: Mapping[str, Any], clinic_id: UUID) -> dict[str, Any]:
    """The record's fields from a Patient: regenpath needs the MRN, a name, the birth date and
    the administrative gender (its Patient record has them all)."""
    mrn = None
    # A sender may send an element as null; it means absent (found by the bounded fuzzing).
    for identifier in resource.get("identifier") or []:
        codes = [c.get("code") for c in (identifier.get("type") or {}).get("coding") or []]
        if identifier.get("system") == systems.mrn_system(clinic_id) or "MR" in codes:
            mrn = identifier.get("value")
            break
    if not mrn:
        raise FhirError.one(
            422,
            "required",
            "regenpath needs the medical record number: an identifier of type MR",
            "Patient.identifier",
        )
    names = resource.get("name") or [{}]
    name = next((n for n in names if n.get("use") == "official"), names[0])
    given = " ".join(name.get("given") or [])
    if not name.get("family") or not given:
        raise FhirError.one(
            422, "required", "regenpath needs the family and given names", "Patient.name"
        )
    birth = resource.get("birthDate")
    if not isinstance(birth, str) or len(birth) != 10:
        raise FhirError.one(
            422, "required", "regenpath needs the full birth date", "Patient.birthDate"
        )
    gender = resource.get("gender")
    if gender is None:
        raise FhirError.one(
            422, "required", "regenpath needs the administrative gender", "Patient.gender"
        )
    telecom = {t.get("system"): t.get("value") for t in reversed(resource.get("telecom", []))}
    return {
        "mrn": mrn,
        "family_name": name["family"],
        "given_name": given,
        "birth_date": date.fromisoformat(birth),
        "sex": AdministrativeSex(gender),
        "phone": telecom.get("phone"),
        "email": telecom.get("email"),
    }


def _patient_element(field_name: str) -> str:
    return {
        "mrn": "Patient.identifier",
        "family_name": "Patient.name.family",
        "given_name": "Patient.name.given",
        "birth_date": "Patient.birthDate",
    }.get(field_name, "Patient")


def iter_lines(text: str) -> Iterator[tuple[int, str]]:
    return ((number, line) for number, line in enumerate(text.splitlines(), start=1))
