"""SQL repositories: rows in, domain objects out, always inside one AccessScope."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any, TypeVarTuple
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    Select,
    any_,
    bindparam,
    false,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from regenpath.adapters.db.pagination import decode_cursor, encode_cursor
from regenpath.adapters.db.tables import (
    ClinicRow,
    EpisodeRow,
    EpisodeTransitionRow,
    PatientRow,
    ProductRow,
    TreatmentCycleRow,
)
from regenpath.domain.episodes import Episode, TreatmentCycle
from regenpath.domain.pathway import OPEN_STAGES, Stage
from regenpath.domain.patients import CORRECTABLE_FIELDS, Clinic, Patient, mrn_key
from regenpath.services.errors import InvalidReference, StaleVersion
from regenpath.services.ports import (
    AccessScope,
    EpisodeQuery,
    EpisodeSummary,
    Page,
    PatientQuery,
    TimelineEntry,
)

_Ts = TypeVarTuple("_Ts")


class _Scoped:
    def __init__(self, session: Session, scope: AccessScope) -> None:
        self.session = session
        self.scope = scope

    def _in_scope(self, statement: Select[*_Ts], clinic_column: Any) -> Select[*_Ts]:
        """Narrow to the scope's clinics and, for a patient principal, to their own rows.

        Every query goes through here, so none can reach another clinic's records.
        """
        if self.scope.clinic_ids is not None:
            statement = statement.where(clinic_column.in_(self.scope.clinic_ids))
        if self.scope.patient_id is not None and clinic_column is not ClinicRow.id:
            # A patient sees their own rows, and their own clinic's name and time zone (the
            # clinic_ids filter above already narrowed clinics to theirs).
            table = clinic_column.table
            own = _PATIENT_COLUMN.get(table.name, table.c.get("patient_id"))
            if own is not None:
                statement = statement.where(own == self.scope.patient_id)
            elif "episode_id" in table.c:  # an episode's record (its assessment): via the episode
                theirs = select(EpisodeRow.id).where(EpisodeRow.patient_id == self.scope.patient_id)
                statement = statement.where(table.c.episode_id.in_(theirs))
            else:
                statement = statement.where(false())
        return statement

    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def _id_chunks(self, ids: Sequence[Any]) -> list[Sequence[Any]]:
        # PostgreSQL takes a whole list as one array parameter; SQLite gets IN lists.
        if self._postgres():
            return [ids] if ids else []
        return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]

    def _among(self, column: Any, ids: Sequence[Any]) -> Any:
        """``column IN ids``: on PostgreSQL ``= ANY(array)``, one parameter however many ids
        (measured: an IN list of 500 parameters cost 25-100 ms a query, the array a few)."""
        if self._postgres():
            return column == any_(bindparam(None, list(ids), type_=ARRAY(column.type)))
        return column.in_(ids)


# Chunks for IN (...) lists: well under SQLite's parameter limit.
_CHUNK = 500


class SqlClinicRepository(_Scoped):
    def add(self, clinic: Clinic) -> None:
        self.session.add(
            ClinicRow(
                id=clinic.id,
                name=clinic.name,
                time_zone=clinic.time_zone,
                created_at=clinic.created_at,
                phone=clinic.phone,
            )
        )

    def get(self, clinic_id: UUID) -> Clinic | None:
        row = self.session.scalar(
            self._in_scope(select(ClinicRow).where(ClinicRow.id == clinic_id), ClinicRow.id)
        )
        return _clinic(row) if row is not None else None

    def all(self) -> list[Clinic]:
        rows = self.session.scalars(
            self._in_scope(select(ClinicRow), ClinicRow.id).order_by(ClinicRow.name)
        )
        return [_clinic(row) for row in rows]


class SqlPatientRepository(_Scoped):
    def add(self, patient: Patient) -> None:
        self.session.add(
            PatientRow(
                id=patient.id,
                clinic_id=patient.clinic_id,
                mrn=patient.mrn,
                mrn_key=mrn_key(patient.mrn),
                created_at=patient.created_at,
                updated_at=patient.created_at,
                version=patient.version,
                **_editable_patient_values(patient),
            )
        )
        self.session.flush()

    def get(self, patient_id: UUID) -> Patient | None:
        row = self.session.scalar(
            self._in_scope(
                select(PatientRow).where(PatientRow.id == patient_id), PatientRow.clinic_id
            )
        )
        return _patient(row) if row is not None else None

    def get_by_mrn(self, clinic_id: UUID, mrn: str) -> Patient | None:
        row = self.session.scalar(
            self._in_scope(
                select(PatientRow).where(
                    PatientRow.clinic_id == clinic_id, PatientRow.mrn_key == mrn_key(mrn)
                ),
                PatientRow.clinic_id,
            )
        )
        return _patient(row) if row is not None else None

    def born_on(self, clinic_id: UUID, birth_date: date) -> list[Patient]:
        rows = self.session.scalars(
            self._in_scope(
                select(PatientRow).where(
                    PatientRow.clinic_id == clinic_id, PatientRow.birth_date == birth_date
                ),
                PatientRow.clinic_id,
            ).order_by(PatientRow.created_at)
        )
        return [_patient(row) for row in rows]

    def add_many(self, patients: Sequence[Patient]) -> None:
        """Many new patients in one INSERT (the FHIR bulk import's path)."""
        if patients:
            self.session.execute(
                insert(PatientRow),
                [
                    {
                        "id": p.id,
                        "clinic_id": p.clinic_id,
                        "mrn": p.mrn,
                        "mrn_key": mrn_key(p.mrn),
                        "created_at": p.created_at,
                        "updated_at": p.created_at,
                        "version": p.version,
                        **_editable_patient_values(p),
                    }
                    for p in patients
                ],
            )

    def get_many(self, patient_ids: Collection[UUID]) -> dict[UUID, Patient]:
        found: dict[UUID, Patient] = {}
        for chunk in self._id_chunks(list(set(patient_ids))):
            statement = select(PatientRow).where(self._among(PatientRow.id, chunk))
            for row in self.session.scalars(self._in_scope(statement, PatientRow.clinic_id)):
                found[row.id] = _patient(row)
        return found

    def by_mrns(self, clinic_id: UUID, mrns: Collection[str]) -> dict[str, Patient]:
        """The clinic's patients by the MRNs asked for, each found as compared (ID-1)."""
        asked: dict[str, list[str]] = {}
        for mrn in mrns:
            asked.setdefault(mrn_key(mrn), []).append(mrn)
        found: dict[str, Patient] = {}
        for chunk in self._id_chunks(list(asked)):
            statement = select(PatientRow).where(
                PatientRow.clinic_id == clinic_id, self._among(PatientRow.mrn_key, chunk)
            )
            for row in self.session.scalars(self._in_scope(statement, PatientRow.clinic_id)):
                for mrn in asked[row.mrn_key]:
                    found[mrn] = _patient(row)
        return found

    def taken_ids(self, patient_ids: Collection[UUID]) -> set[UUID]:
        """The ids any clinic's patients already have (ids are unique server-wide)."""
        taken: set[UUID] = set()
        for chunk in self._id_chunks(list(patient_ids)):
            statement = select(PatientRow.id).where(self._among(PatientRow.id, chunk))
            taken.update(self.session.scalars(statement))
        return taken

    def update(self, patient: Patient, expected_version: int, now: datetime) -> None:
        result = self.session.execute(
            update(PatientRow)
            .where(PatientRow.id == patient.id, PatientRow.version == expected_version)
            .values(
                updated_at=now, version=expected_version + 1, **_editable_patient_values(patient)
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleVersion("patient", patient.id, expected_version)
        patient.version = expected_version + 1

    def search(self, query: PatientQuery) -> Page[Patient]:
        statement = self._in_scope(select(PatientRow), PatientRow.clinic_id)
        if query.clinic_id is not None:
            statement = statement.where(PatientRow.clinic_id == query.clinic_id)
        if query.mrn:
            statement = statement.where(PatientRow.mrn_key == mrn_key(query.mrn))
        if query.birth_date is not None:
            statement = statement.where(PatientRow.birth_date == query.birth_date)
        if query.name:
            for word in query.name.split():
                pattern = f"%{_escape_like(word.lower())}%"
                statement = statement.where(
                    or_(
                        func.lower(PatientRow.family_name).like(pattern, escape="\\"),
                        func.lower(PatientRow.given_name).like(pattern, escape="\\"),
                    )
                )
        key = (PatientRow.family_name, PatientRow.given_name, PatientRow.id)
        if query.cursor:
            family, given, last_id = decode_cursor(query.cursor, 3)
            statement = statement.where(tuple_(*key) > tuple_(family, given, _uuid(last_id)))
        rows = list(self.session.scalars(statement.order_by(*key).limit(query.limit + 1)))
        next_cursor = None
        if len(rows) > query.limit:
            rows = rows[: query.limit]
            last = rows[-1]
            next_cursor = encode_cursor([last.family_name, last.given_name, str(last.id)])
        return Page([_patient(row) for row in rows], next_cursor)


class SqlEpisodeRepository(_Scoped):
    def add(self, episode: Episode) -> None:
        self.session.add(
            EpisodeRow(
                id=episode.id,
                clinic_id=episode.clinic_id,
                patient_id=episode.patient_id,
                condition_code=episode.condition_code,
                condition_text=episode.condition_text,
                target_site=episode.target_site,
                laterality=episode.laterality,
                stage=episode.stage,
                opened_at=episode.opened_at,
                stage_changed_at=episode.opened_at,
                consented_at=episode.consented_at,
                closed_at=episode.closed_at,
                version=episode.version,
            )
        )
        self.session.flush()

    def get(self, episode_id: UUID) -> Episode | None:
        row = self.session.scalar(
            self._in_scope(
                select(EpisodeRow).where(EpisodeRow.id == episode_id), EpisodeRow.clinic_id
            )
        )
        return _episode(row) if row is not None else None

    def claim(self, episode_id: UUID) -> Episode | None:
        # PostgreSQL: a row lock that a second worker skips instead of waiting on, so two
        # workers never climb the same reminder rung. SQLite has one writer at a time and
        # ignores FOR UPDATE; its second worker is refused at start (entrypoints/processes).
        row = self.session.scalar(
            self._in_scope(
                select(EpisodeRow).where(EpisodeRow.id == episode_id), EpisodeRow.clinic_id
            ).with_for_update(skip_locked=True)
        )
        return _episode(row) if row is not None else None

    def save(self, episode: Episode, expected_version: int, change: TimelineEntry) -> None:
        # The WHERE on version is the optimistic lock: a concurrent writer that committed
        # first has moved the version on, so this UPDATE matches no row and nothing is written.
        result = self.session.execute(
            update(EpisodeRow)
            .where(EpisodeRow.id == episode.id, EpisodeRow.version == expected_version)
            .values(
                stage=episode.stage,
                stage_changed_at=change.occurred_at,
                consented_at=episode.consented_at,
                closed_at=episode.closed_at,
                version=expected_version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleVersion("episode", episode.id, expected_version)
        existing = {
            row.id: row
            for row in self.session.scalars(
                select(TreatmentCycleRow).where(TreatmentCycleRow.episode_id == episode.id)
            )
        }
        for cycle in episode.cycles:
            row = existing.get(cycle.id)
            if row is None:
                self.session.add(
                    TreatmentCycleRow(
                        id=cycle.id,
                        clinic_id=episode.clinic_id,
                        episode_id=episode.id,
                        number=cycle.number,
                        cell_source=cycle.cell_source,
                        stage=cycle.stage,
                        planned_at=cycle.planned_at,
                        product_id=cycle.product_id,
                        administered_at=cycle.administered_at,
                    )
                )
            else:
                row.stage = cycle.stage
                row.product_id = cycle.product_id
                row.administered_at = cycle.administered_at
        self.session.add(
            EpisodeTransitionRow(
                clinic_id=episode.clinic_id,
                episode_id=episode.id,
                from_stage=change.from_stage,
                to_stage=change.to_stage,
                occurred_at=change.occurred_at,
                cycle_number=change.cycle_number,
                reason=change.reason,
                events=change.events,
            )
        )
        self.session.flush()
        episode.version = expected_version + 1

    def find(self, query: EpisodeQuery) -> Page[EpisodeSummary]:
        statement = self._in_scope(
            select(EpisodeRow, PatientRow).join(PatientRow, PatientRow.id == EpisodeRow.patient_id),
            EpisodeRow.clinic_id,
        )
        if query.clinic_id is not None:
            statement = statement.where(EpisodeRow.clinic_id == query.clinic_id)
        if query.stage is not None:
            statement = statement.where(EpisodeRow.stage == query.stage)
        if query.patient_id is not None:
            statement = statement.where(EpisodeRow.patient_id == query.patient_id)
        if query.open_only:
            statement = statement.where(EpisodeRow.stage.in_(OPEN_STAGES))
        # Longest-waiting first: a worklist is read from the top.
        key = (EpisodeRow.stage_changed_at, EpisodeRow.id)
        if query.cursor:
            since, last_id = decode_cursor(query.cursor, 2)
            statement = statement.where(tuple_(*key) > tuple_(_datetime(since), _uuid(last_id)))
        rows = list(self.session.execute(statement.order_by(*key).limit(query.limit + 1)))
        next_cursor = None
        if len(rows) > query.limit:
            rows = rows[: query.limit]
            last = rows[-1][0]
            next_cursor = encode_cursor([last.stage_changed_at.isoformat(), str(last.id)])
        return Page(
            [
                EpisodeSummary(
                    episode=_episode(episode),
                    patient_name=f"{patient.family_name.upper()}, {patient.given_name}",
                    patient_mrn=patient.mrn,
                    stage_since=episode.stage_changed_at,
                )
                for episode, patient in rows
            ],
            next_cursor,
        )

    def for_patient(self, patient_id: UUID) -> list[Episode]:
        rows = self.session.scalars(
            self._in_scope(
                select(EpisodeRow).where(EpisodeRow.patient_id == patient_id),
                EpisodeRow.clinic_id,
            ).order_by(EpisodeRow.opened_at)
        )
        return [_episode(row) for row in rows]

    def count_by_stage(self, clinic_id: UUID | None = None) -> dict[Stage, int]:
        statement = self._in_scope(
            select(EpisodeRow.stage, func.count()).group_by(EpisodeRow.stage),
            EpisodeRow.clinic_id,
        )
        if clinic_id is not None:
            statement = statement.where(EpisodeRow.clinic_id == clinic_id)
        return {Stage(stage): count for stage, count in self.session.execute(statement)}

    def timeline(self, episode_id: UUID) -> list[TimelineEntry]:
        rows = self.session.scalars(
            self._in_scope(
                select(EpisodeTransitionRow).where(EpisodeTransitionRow.episode_id == episode_id),
                EpisodeTransitionRow.clinic_id,
            ).order_by(EpisodeTransitionRow.occurred_at, EpisodeTransitionRow.id)
        )
        return [
            TimelineEntry(
                episode_id=row.episode_id,
                from_stage=row.from_stage,
                to_stage=row.to_stage,
                occurred_at=row.occurred_at,
                cycle_number=row.cycle_number,
                reason=row.reason,
                events=list(row.events),
            )
            for row in rows
        ]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _uuid(value: Any) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidReference("cursor", "not a cursor this server gave out") from None


def _datetime(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidReference("cursor", "not a cursor this server gave out") from None


def _editable_patient_values(patient: Patient) -> dict[str, Any]:
    return {name: getattr(patient, name) for name in CORRECTABLE_FIELDS}


def _clinic(row: ClinicRow) -> Clinic:
    return Clinic(
        id=row.id,
        name=row.name,
        time_zone=row.time_zone,
        created_at=row.created_at,
        phone=row.phone,
    )


def _patient(row: PatientRow) -> Patient:
    return Patient(
        id=row.id,
        clinic_id=row.clinic_id,
        mrn=row.mrn,
        family_name=row.family_name,
        given_name=row.given_name,
        birth_date=date.fromisoformat(str(row.birth_date)),
        sex=row.sex,
        phone=row.phone,
        email=row.email,
        created_at=row.created_at,
        version=row.version,
    )


def _episode(row: EpisodeRow) -> Episode:
    return Episode(
        id=row.id,
        clinic_id=row.clinic_id,
        patient_id=row.patient_id,
        condition_code=row.condition_code,
        condition_text=row.condition_text,
        target_site=row.target_site,
        laterality=row.laterality,
        opened_at=row.opened_at,
        stage=row.stage,
        consented_at=row.consented_at,
        closed_at=row.closed_at,
        version=row.version,
        cycles=[
            TreatmentCycle(
                id=cycle.id,
                number=cycle.number,
                cell_source=cycle.cell_source,
                stage=cycle.stage,
                planned_at=cycle.planned_at,
                product_id=cycle.product_id,
                administered_at=cycle.administered_at,
            )
            for cycle in row.cycles
        ],
    )


# The column that says whose record a row is, for tables a patient may see their own rows of.
_PATIENT_COLUMN: dict[str, Any] = {
    PatientRow.__tablename__: PatientRow.id,
    EpisodeRow.__tablename__: EpisodeRow.patient_id,
    ProductRow.__tablename__: ProductRow.intended_patient_id,
}
