"""Issue 8's acceptance, end to end: the injection starts the schedule; when the clock reaches
the first check-in the worker emails a reminder to a real SMTP server; the patient opens the
link on a phone in Chromium and answers the NRS and the RMDQ one question per screen; the
time point is completed and no further reminder leaves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect

from regenpath.adapters.notify.smtp import SmtpMailer
from regenpath.bootstrap import Application
from regenpath.entrypoints.worker import run_once
from tests.integration.pathway import bedside_check, inject, new_episode, walk
from tests.smtp import smtp_server
from tests.support import TestClock

EMAIL = "mae.jemison@example.org"
PHONE = {"width": 390, "height": 844}  # a phone in portrait


@pytest.fixture
def weeks_later(server_clock: TestClock) -> Iterator[TestClock]:
    """The server's clock, moved weeks on by the test and back afterwards: the other browser
    tests walk the pathway at the suite's start, where their products have not expired."""
    start = server_clock.current
    yield server_clock
    server_clock.current = start


def test_a_patient_answers_the_check_in_on_a_phone_and_the_reminders_stop(
    browser: Browser,
    application: Application,
    staff_api,
    server_url: str,
    weeks_later: TestClock,
) -> None:
    server_clock = weeks_later
    patient, episode = new_episode(
        staff_api, "RS-E2E-FU", "Jemison", "Mae", "1956-10-17", email=EMAIL
    )
    released = walk(staff_api, episode, until="released")
    bedside_check(staff_api, released, patient)
    server_clock.advance(minutes=2)
    assert inject(staff_api, released).status_code == 201
    first = staff_api.get(f"/api/v1/episodes/{episode['id']}/follow-up").json()["visits"][0]
    assert first["label"] == "2 weeks" and first["status"] == "upcoming"

    today = server_clock.now().astimezone(ZoneInfo("America/Chicago")).date()
    server_clock.advance(days=(date.fromisoformat(first["opens_on"]) - today).days)
    with smtp_server() as (mailbox, port):
        application.mailer = SmtpMailer(host="127.0.0.1", port=port, sender="clinic@example.org")
        assert run_once(application).delivery.sent >= 1
        [email] = mailbox.to(EMAIL)
        assert email["Subject"].endswith("your 2 weeks check-in")
        found = re.search(r"\S+/portal/enter\?token=\S+", mailbox.body(email))
        assert found is not None
        link = urlsplit(found.group(0))

        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        phone = context.new_page()
        phone.goto(f"{server_url}{link.path}?{link.query}")
        phone.get_by_role("button", name="Continue").click()
        expect(phone.get_by_role("heading", name="Hello Mae")).to_be_visible()
        expect(phone.locator(".checkin")).to_contain_text("2 weeks check-in")

        phone.get_by_role("link", name="Start: Back and leg pain (0-10)").click()
        expect(phone.get_by_text("Question 1 of 2")).to_be_visible()
        target = phone.get_by_role("button", name="3", exact=True)
        box = target.bounding_box()
        assert box is not None and box["height"] >= 48  # a thumb-sized target
        target.tap()
        expect(phone.get_by_text("Question 2 of 2")).to_be_visible()
        phone.get_by_role("button", name="1", exact=True).tap()
        phone.get_by_role("button", name="Send my answers").tap()
        expect(phone.get_by_role("status")).to_contain_text("your answers have been sent")

        phone.get_by_role("link", name="Start: Roland-Morris Disability Questionnaire").click()
        for number in range(1, 25):
            expect(phone.get_by_text(f"Question {number} of 24")).to_be_visible()
            choice = "Yes, that describes me today" if number <= 5 else "No"
            phone.get_by_role("button", name=choice, exact=True).tap()
        phone.get_by_role("button", name="Send my answers").tap()
        expect(phone.get_by_text("Nothing to fill in today.")).to_be_visible()
        expect(
            phone.get_by_role("img", name=re.compile(r"^Back pain: Before 6, 2 weeks 3"))
        ).to_be_visible()
        context.close()

        record = staff_api.get(f"/api/v1/episodes/{episode['id']}/follow-up").json()
        visit = record["visits"][0]
        assert visit["status"] == "completed"
        scores = {r["instrument"]: r["scores"] for r in visit["responses"]}
        assert scores == {"nrs-spine": {"back": 3.0, "leg": 1.0}, "rmdq": {"total": 5.0}}

        server_clock.advance(days=3)  # the target day, when the second email would go
        run_once(application)
        assert len(mailbox.to(EMAIL)) == 1
