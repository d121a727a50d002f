"""The SQL Unit of Work: one session, one transaction, repositories bound to one scope."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from regenpath.adapters.db.audit import SqlAuditLog
from regenpath.adapters.db.evaluation import SqlEvaluationRepository
from regenpath.adapters.db.fhir import SqlFhirStore
from regenpath.adapters.db.followup import SqlFollowUpRepository, SqlOutbox, SqlPortalRepository
from regenpath.adapters.db.identity import (
    SqlCredentialRepository,
    SqlSignatureRepository,
    SqlUserRepository,
)
from regenpath.adapters.db.products import (
    SqlDonorRepository,
    SqlLabRecordRepository,
    SqlLookback,
    SqlProductRepository,
    SqlTaskRepository,
)
from regenpath.adapters.db.repositories import (
    SqlClinicRepository,
    SqlEpisodeRepository,
    SqlPatientRepository,
)
from regenpath.adapters.db.safety import SqlSafetyRepository
from regenpath.services.errors import DuplicateValue
from regenpath.services.ports import AccessScope


class SqlUnitOfWork:
    """``with uow: ...; uow.commit()`` — leaving the block without commit rolls back."""

    clinics: SqlClinicRepository
    patients: SqlPatientRepository
    episodes: SqlEpisodeRepository
    products: SqlProductRepository
    audit: SqlAuditLog
    users: SqlUserRepository
    credentials: SqlCredentialRepository
    signatures: SqlSignatureRepository
    lab: SqlLabRecordRepository
    donors: SqlDonorRepository
    tasks: SqlTaskRepository
    lookback: SqlLookback
    evaluations: SqlEvaluationRepository
    safety: SqlSafetyRepository
    follow_up: SqlFollowUpRepository
    portal: SqlPortalRepository
    outbox: SqlOutbox
    fhir: SqlFhirStore

    def __init__(self, session_factory: sessionmaker[Session], scope: AccessScope) -> None:
        self._session_factory = session_factory
        self.scope = scope
        self._session: Session | None = None

    def __enter__(self) -> Self:
        session = self._session_factory()
        self._session = session
        self.clinics = SqlClinicRepository(session, self.scope)
        self.patients = SqlPatientRepository(session, self.scope)
        self.episodes = SqlEpisodeRepository(session, self.scope)
        self.products = SqlProductRepository(session, self.scope)
        self.audit = SqlAuditLog(session, self.scope)
        self.users = SqlUserRepository(session, self.scope)
        self.credentials = SqlCredentialRepository(session)
        self.signatures = SqlSignatureRepository(session, self.scope)
        self.lab = SqlLabRecordRepository(session, self.scope)
        self.donors = SqlDonorRepository(session, self.scope)
        self.tasks = SqlTaskRepository(session, self.scope)
        self.lookback = SqlLookback(session, self.scope)
        self.evaluations = SqlEvaluationRepository(session, self.scope)
        self.safety = SqlSafetyRepository(session, self.scope)
        self.follow_up = SqlFollowUpRepository(session, self.scope)
        self.portal = SqlPortalRepository(session, self.scope)
        self.outbox = SqlOutbox(session, self.scope)
        self.fhir = SqlFhirStore(session, self.scope)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._require_session()
        try:
            session.rollback()
        finally:
            session.close()
            self._session = None
        if isinstance(exc, IntegrityError):
            raise _duplicate() from exc

    def commit(self) -> None:
        try:
            self._require_session().commit()
        except IntegrityError as error:
            self._require_session().rollback()
            raise _duplicate() from error

    def rollback(self) -> None:
        self._require_session().rollback()

    def _require_session(self) -> Session:
        if self._session is None:
            raise RuntimeError("use the unit of work inside a with block")
        return self._session


def _duplicate() -> DuplicateValue:
    # A uniqueness race between two writers: the use case's own check passed for both, and
    # the database refused the second.
    return DuplicateValue("record", "a conflicting record was written meanwhile; reload and retry")
