"""A real server on a free local port, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from regenpath.adapters.db import migrate
from regenpath.bootstrap import bootstrap
from regenpath.config import Settings
from regenpath.domain.access import Role
from regenpath.entrypoints.app import create_app
from regenpath.services import clinics, identity

CHROMIUM = os.environ.get("REGENPATH_CHROMIUM", "/usr/bin/chromium")
# Chromium's own background traffic is refused on closed networks, many times a start.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = pytest.mark.e2e
COORDINATOR = "coordinator.e2e"
PASSWORD = "e2e-coordinator-password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("e2e") / "regenpath.db"
    application = bootstrap(Settings(database_url=f"sqlite:///{database}"))
    migrate.upgrade(application.engine)
    clinic = clinics.create_clinic(
        application.unit_of_work(),
        application.clock,
        application.new_id,
        name="Riverside Spine & Joint Clinic",
        time_zone="America/Chicago",
    )
    identity.create_user(
        application.unit_of_work(),
        application.clock,
        application.new_id,
        application.hasher,
        username=COORDINATOR,
        display_name="Casey Morrow",
        password=PASSWORD,
        memberships={clinic.id: Role.COORDINATOR},
    )
    port = _free_port()
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
    application.dispose()


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


@pytest.fixture
def page(anonymous_page: Page, server_url: str) -> Page:
    """A coordinator signed in through the sign-in form."""
    anonymous_page.goto(f"{server_url}/login")
    anonymous_page.get_by_label("User name").fill(COORDINATOR)
    anonymous_page.get_by_label("Password").fill(PASSWORD)
    anonymous_page.get_by_role("button", name="Sign in").click()
    anonymous_page.wait_for_url(f"{server_url}/worklist")
    return anonymous_page
