"""Composition root: the one place that picks adapters and wires them to the use cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from regenpath.adapters.analytics import OutcomeData
from regenpath.adapters.db.engine import build_engine, build_session_factory
from regenpath.adapters.db.uow import SqlUnitOfWork
from regenpath.adapters.fhir.server import FhirServer
from regenpath.adapters.notify.smtp import SmtpMailer
from regenpath.adapters.rulesets import load_ae_catalogue, load_instruments, load_ruleset
from regenpath.adapters.security import Argon2PasswordHasher, keyed_digest
from regenpath.config import Settings, get_settings
from regenpath.domain.access import LockoutPolicy
from regenpath.domain.eligibility import Ruleset
from regenpath.domain.followup import SchedulePolicy
from regenpath.domain.instruments import InstrumentLibrary
from regenpath.domain.safety import AeCatalogue
from regenpath.domain.signals import Cusum
from regenpath.services.followup import FollowUpSettings
from regenpath.services.identity import Digest
from regenpath.services.lab import LabSettings
from regenpath.services.ports import AccessScope, Clock, IdFactory, Mailer, PasswordHasher


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Application:
    """Everything a request or a command needs, built once per process."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)
    new_id: IdFactory = uuid.uuid4
    hasher: PasswordHasher = field(default_factory=Argon2PasswordHasher)
    mailer: Mailer | None = None

    def __post_init__(self) -> None:
        self.digest: Digest = keyed_digest(self.settings.secret_key.get_secret_value())
        # Read once, at start: a broken ruleset file stops the app, not a patient's evaluation.
        self.ruleset: Ruleset = load_ruleset(self.settings.eligibility_ruleset)
        self.ae_catalogue: AeCatalogue = load_ae_catalogue()
        self.instruments: InstrumentLibrary = load_instruments(
            self.settings.odi_text, self.settings.odi_min_sections
        )
        self.schedules = SchedulePolicy.parse(
            self.settings.follow_up_schedule, self.settings.follow_up_schedules
        )
        if self.mailer is None:
            settings = self.settings
            password = settings.smtp_password
            self.mailer = SmtpMailer(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_sender,
                starttls=settings.smtp_starttls,
                username=settings.smtp_username,
                password=password.get_secret_value() if password is not None else None,
            )

    @property
    def follow_up(self) -> FollowUpSettings:
        """What the follow-up use cases need to know of the clinic's configuration."""
        return FollowUpSettings(
            instruments=self.instruments,
            schedules=self.schedules,
            missed_for_lost=self.settings.missed_for_lost,
            nsaid_codes=self.ruleset.nsaid_codes,
            public_url=self.settings.public_url.rstrip("/"),
            link_lifetime=timedelta(hours=self.settings.portal_link_hours),
            digest=self.digest,
        )

    @property
    def portal_session(self) -> timedelta:
        """How long a patient's portal sign-in lasts after they spend their link."""
        return timedelta(hours=self.settings.portal_session_hours)

    @property
    def lockout(self) -> LockoutPolicy:
        return LockoutPolicy(
            max_failures=self.settings.lockout_failures,
            window=timedelta(seconds=self.settings.lockout_window_seconds),
            duration=timedelta(minutes=self.settings.lockout_minutes),
        )

    @property
    def cusum(self) -> Cusum:
        """The safety-signal settings (domain/signals.py)."""
        return Cusum(
            self.settings.signal_baseline,
            self.settings.signal_ratio,
            self.settings.signal_threshold,
        )

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(hours=self.settings.session_hours)

    @property
    def fhir(self) -> FhirServer:
        """The FHIR R4 facade over the pathway's records."""
        return FhirServer(self.clock, self.new_id, self.instruments, self.ae_catalogue)

    def unit_of_work(self, scope: AccessScope | None = None) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session_factory, scope or AccessScope())

    @property
    def lab(self) -> LabSettings:
        return LabSettings(
            facility=self.settings.din_facility_code,
            max_hold={
                product_type: timedelta(hours=hours)
                for product_type, hours in self.settings.product_max_hold_hours.items()
            },
        )

    def outcome_data(self) -> OutcomeData:
        """What the outcome report reads: the configured snapshot, else the live database
        attached read-only by DuckDB; the caller closes it."""
        if self.settings.registry_snapshot is not None:
            return OutcomeData.snapshot(self.settings.registry_snapshot)
        return OutcomeData.live(self.settings.database_url)

    def dispose(self) -> None:
        self.engine.dispose()


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    new_id: IdFactory | None = None,
    hasher: PasswordHasher | None = None,
) -> Application:
    settings = settings or get_settings()
    engine = build_engine(settings.database_url, echo=settings.sql_echo)
    return Application(
        settings=settings,
        engine=engine,
        session_factory=build_session_factory(engine),
        clock=clock or SystemClock(),
        new_id=new_id or _uuid4,
        hasher=hasher or Argon2PasswordHasher(),
    )


def _uuid4() -> UUID:
    return uuid.uuid4()
