"""A real server on a free local port, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from regenpath.adapters.db import migrate
from regenpath.bootstrap import Application, bootstrap
from regenpath.config import Settings
from regenpath.domain.access import Role
from regenpath.entrypoints.app import create_app
from regenpath.services import identity
from tests.integration.personas import (
    StaffClient,
    make_clinic,
    make_user,
    password_of,
    username_of,
)
from tests.smtp import free_port
from tests.support import TestClock

CHROMIUM = os.environ.get("REGENPATH_CHROMIUM", "/usr/bin/chromium")
# Chromium's own background traffic is refused on closed networks, many times a start.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = pytest.mark.e2e
COORDINATOR = "coordinator.e2e"
PASSWORD = "e2e-coordinator-password"


@pytest.fixture(scope="session")
def server_clock() -> TestClock:
    """The server's clock: a test moves it on between steps that must not share a moment."""
    return TestClock()


@pytest.fixture(scope="session")
def application(
    tmp_path_factory: pytest.TempPathFactory, server_clock: TestClock
) -> Iterator[Application]:
    database = tmp_path_factory.mktemp("e2e") / "regenpath.db"
    application = bootstrap(Settings(database_url=f"sqlite:///{database}"), clock=server_clock)
    migrate.upgrade(application.engine)
    yield application
    application.dispose()


@pytest.fixture(scope="session")
def clinic(application: Application) -> dict[str, str]:
    """The clinic, with the coordinator of the first tests and one user per role."""
    clinic = make_clinic(application, "Riverside Spine & Joint Clinic", "America/Chicago")
    identity.create_user(
        application.unit_of_work(),
        application.clock,
        application.new_id,
        application.hasher,
        username=COORDINATOR,
        display_name="Casey Morrow",
        password=PASSWORD,
        memberships={UUID(clinic["id"]): Role.COORDINATOR},
    )
    return clinic


@pytest.fixture(scope="session")
def staff_api(application: Application, clinic: dict[str, str]) -> Iterator[StaffClient]:
    """The API as the clinic's staff, to bring records to where a browser test starts."""
    tokens = {role: make_user(application, clinic, role) for role in Role}
    with StaffClient(create_app(application), base_url="https://testserver") as api:
        api.tokens = tokens
        api.clinic = clinic
        api.physician_password = api.password_for(Role.PHYSICIAN)
        api.headers["Authorization"] = f"Bearer {tokens[Role.PHYSICIAN]}"
        yield api


@pytest.fixture(scope="session")
def server_url(application: Application, clinic: dict[str, str]) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(application), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        message = f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def anonymous_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    yield page
    context.close()


def sign_in(page: Page, server_url: str, username: str, password: str) -> Page:
    page.goto(f"{server_url}/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


@pytest.fixture
def page(anonymous_page: Page, server_url: str) -> Page:
    """A coordinator signed in through the sign-in form."""
    sign_in(anonymous_page, server_url, COORDINATOR, PASSWORD)
    anonymous_page.wait_for_url(f"{server_url}/worklist")
    return anonymous_page


@pytest.fixture
def page_as(
    browser: Browser, server_url: str, clinic: dict[str, str]
) -> Iterator[Callable[[Role], Page]]:
    """``page_as(role)``: a browser of its own, signed in as the clinic's ``role``."""
    contexts: list[BrowserContext] = []

    def open_as(role: Role) -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        username = username_of(clinic, role)
        return sign_in(context.new_page(), server_url, username, password_of(username))

    yield open_as
    for context in contexts:
        context.close()
