"""Every integration test runs on SQLite, and on PostgreSQL when REGENPATH_TEST_DATABASE_URL
is set; each test starts from empty tables in a schema of its own worker."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from regenpath.adapters.db import migrate
from regenpath.adapters.db.tables import Base
from regenpath.adapters.notify.smtp import SmtpMailer
from regenpath.adapters.security import Argon2PasswordHasher
from regenpath.bootstrap import Application, bootstrap
from regenpath.config import Settings
from regenpath.domain.access import Role
from regenpath.entrypoints.app import create_app
from tests.integration.personas import (
    StaffClient,
    make_clinic,
    make_user,
    password_of,
    sign_in,
    username_of,
)
from tests.smtp import Mailbox, smtp_server
from tests.support import TestClock

# Argon2 at its cheapest: the suite checks the logic, not the hash's cost (the demo and
# production use argon2-cffi's defaults).
FAST_HASHER = Argon2PasswordHasher(time_cost=1, memory_cost=1024)
POSTGRES_URL = os.environ.get("REGENPATH_TEST_DATABASE_URL")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'regenpath.db'}"
    application = bootstrap(Settings(database_url=url))
    migrate.upgrade(application.engine)
    application.dispose()
    return url


@contextmanager
def postgresql_schema(prefix: str) -> Iterator[str]:
    """A new, empty schema of this worker's on the test PostgreSQL; its URL, dropped after."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests run when REGENPATH_TEST_DATABASE_URL is set")
    base = make_url(POSTGRES_URL)
    if base.drivername == "postgresql":
        base = base.set(drivername="postgresql+psycopg")
    schema = f"{prefix}_{WORKER}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    with postgresql_schema("regenpath_test") as rendered:
        application = bootstrap(Settings(database_url=rendered))
        migrate.upgrade(application.engine)
        application.dispose()
        yield rendered


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def application(database_url: str, clock: TestClock) -> Iterator[Application]:
    application = bootstrap(Settings(database_url=database_url), clock=clock, hasher=FAST_HASHER)
    yield application
    _empty_tables(application)
    application.dispose()


def _empty_tables(application: Application) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    with application.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def clinic(application: Application) -> dict[str, str]:
    return make_clinic(application, "Riverside Spine", "America/Chicago")


@pytest.fixture
def staff(application: Application, clinic: dict[str, str]) -> dict[Role, str]:
    """One user per role in the clinic, each with an API token: role -> bearer secret."""
    return {role: make_user(application, clinic, role) for role in Role}


@pytest.fixture
def client(
    application: Application, clinic: dict[str, str], staff: dict[Role, str]
) -> Iterator[StaffClient]:
    with StaffClient(create_app(application), base_url="https://testserver") as test_client:
        test_client.tokens = staff
        test_client.clinic = clinic
        physician = username_of(clinic, Role.PHYSICIAN)
        test_client.physician_password = password_of(physician)
        test_client.csrf = sign_in(test_client, physician)
        test_client.headers["Authorization"] = f"Bearer {staff[Role.PHYSICIAN]}"
        test_client.headers["X-CSRF-Token"] = test_client.csrf
        yield test_client


@pytest.fixture
def signed_in(
    application: Application, clinic: dict[str, str], staff: dict[Role, str]
) -> Iterator[Callable[[Role], TestClient]]:
    """Another browser: ``signed_in(role)`` is a client signed in as the clinic's ``role``
    (session cookie and CSRF header, no bearer token), for pages another role uses."""
    opened: list[TestClient] = []

    def sign_in_as(role: Role) -> TestClient:
        browser = TestClient(create_app(application), base_url="https://testserver")
        browser.__enter__()
        opened.append(browser)
        browser.headers["X-CSRF-Token"] = sign_in(browser, username_of(clinic, role))
        return browser

    yield sign_in_as
    for browser in opened:
        browser.__exit__(None, None, None)


@pytest.fixture
def patient(client: TestClient, clinic: dict[str, str]) -> dict[str, object]:
    response = client.post(
        "/api/v1/patients",
        json={
            "clinic_id": clinic["id"],
            "mrn": "RS-000001",
            "family_name": "Hale",
            "given_name": "Avery",
            "birth_date": "1968-04-12",
            "sex": "female",
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


@pytest.fixture
def episode(client: TestClient, patient: dict[str, object]) -> dict[str, object]:
    response = client.post(
        "/api/v1/episodes",
        json={
            "patient_id": patient["id"],
            "condition_code": "M51.36",
            "condition_text": "Lumbar disc degeneration",
            "target_site": "L4-L5 disc",
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


@pytest.fixture
def mailbox(application: Application) -> Iterator[Mailbox]:
    """A real SMTP server on loopback, which the application's worker sends through."""
    with smtp_server() as (mailbox, port):
        application.mailer = SmtpMailer(host="127.0.0.1", port=port, sender="clinic@example.org")
        yield mailbox


@pytest.fixture
def browser(application: Application) -> Iterator[TestClient]:
    """A patient's phone: a client with no staff credentials at all."""
    with TestClient(create_app(application), base_url="https://testserver") as phone:
        yield phone
