"""Optimistic concurrency under real parallel writers, and the migrations against the models."""

from __future__ import annotations

import threading
from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient

from regenpath.adapters.db import migrate
from regenpath.adapters.db.repositories import SqlEpisodeRepository
from regenpath.adapters.db.tables import Base
from regenpath.adapters.db.uow import SqlUnitOfWork
from regenpath.bootstrap import Application
from regenpath.domain.pathway import Stage
from regenpath.domain.patients import AdministrativeSex
from regenpath.domain.procedures import Laterality
from regenpath.services import clinics, episodes, patients
from regenpath.services.errors import StaleVersion
from regenpath.services.ports import AccessScope


def test_two_writers_with_the_same_version_one_wins_one_gets_stale(
    application: Application,
) -> None:
    """Both read version 1, both pass their checks, then write at the same moment."""
    uow = application.unit_of_work()
    clinic = clinics.create_clinic(
        uow, application.clock, application.new_id, name="Riverside", time_zone="UTC"
    )
    patient = patients.register_patient(
        uow,
        application.clock,
        application.new_id,
        patients.PatientDetails(
            clinic_id=clinic.id,
            mrn="C-1",
            family_name="Race",
            given_name="Condition",
            birth_date=application.clock.now().date() - timedelta(days=20_000),
            sex=AdministrativeSex.UNKNOWN,
        ),
    )
    episode = episodes.open_episode(
        uow,
        application.clock,
        application.new_id,
        episodes.EpisodeDetails(patient.id, "M51.36", "Disc", "L4-L5", Laterality.NOT_APPLICABLE),
    )
    both_read = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    class EpisodesThatWaitToWrite(SqlEpisodeRepository):
        def save(self, episode, expected_version, change):  # type: ignore[no-untyped-def]
            both_read.wait()  # each writer has read version 1 and passed every check
            super().save(episode, expected_version, change)

    class RacingUnitOfWork(SqlUnitOfWork):
        def __enter__(self):  # type: ignore[no-untyped-def]
            entered = super().__enter__()
            entered.episodes = EpisodesThatWaitToWrite(entered.episodes.session, self.scope)
            return entered

    def writer(target: Stage, reason: str | None) -> None:
        try:
            episodes.transition_episode(
                RacingUnitOfWork(application.session_factory, AccessScope()),
                application.clock,
                application.new_id,
                episodes.TransitionCommand(episode.id, target, 1, reason=reason),
            )
            outcomes.append("ok")
        except StaleVersion:
            outcomes.append("stale")

    threads = [
        threading.Thread(target=writer, args=(Stage.IN_EVALUATION, None)),
        threading.Thread(target=writer, args=(Stage.WITHDRAWN, "Changed mind")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ok", "stale"]
    stored = episodes.get_episode(application.unit_of_work(), application.clock, episode.id)
    assert stored.version == 2
    assert (
        len(episodes.episode_timeline(application.unit_of_work(), application.clock, episode.id))
        == 1
    )


def test_two_concurrent_api_requests_with_the_same_version_one_gets_409(
    client: TestClient, episode
) -> None:
    responses: list[int] = []
    start = threading.Barrier(2, timeout=10)

    def post(body: dict[str, object]) -> None:
        start.wait()
        responses.append(
            client.post(f"/api/v1/episodes/{episode['id']}/transitions", json=body).status_code
        )

    bodies = [
        {"to": "in_evaluation", "version": 1},
        {"to": "withdrawn", "version": 1, "reason": "Changed mind"},
    ]
    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(responses) == [200, 409]
    assert client.get(f"/api/v1/episodes/{episode['id']}").json()["version"] == 2


def test_the_migrations_build_exactly_the_schema_the_models_describe(
    application: Application,
) -> None:
    with application.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_the_migrations_go_down_to_nothing_and_back_up(
    application: Application, client: TestClient
) -> None:
    migrate.downgrade(application.engine, "base")
    assert migrate.current_revision(application.engine) is None
    migrate.upgrade(application.engine)
    assert migrate.current_revision(application.engine) == migrate.head_revision()
    assert client.get("/healthz").json()["status"] == "ok"
