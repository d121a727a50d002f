"""The staff's follow-up pages (issue 8): the worklist of open check-ins with the calls the
ladder asks for, an episode's follow-up with its charts against the MCID band, and the
button that emails a portal link."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from regenpath.bootstrap import Application
from regenpath.domain.access import Role
from regenpath.entrypoints.worker import run_once
from tests.integration.test_api_followup import EMAIL, answer, treated
from tests.smtp import Mailbox
from tests.support import TestClock


def test_the_worklist_shows_due_then_late_then_the_call_the_ladder_asks_for(
    client: TestClient, application: Application, clock: TestClock, signed_in
) -> None:
    record = treated(client, email=None)
    coordinator = signed_in(Role.COORDINATOR)
    assert "No check-in due." in coordinator.get("/follow-up").text

    clock.advance(days=11)  # the 2-week window opens
    coordinator = signed_in(Role.COORDINATOR)  # a new day, a new sign-in
    due = coordinator.get("/follow-up").text
    assert "Due (1)" in due and "Lovelace, Ada" in due and "no email" in due
    assert f'href="/episodes/{record["episode_id"]}/follow-up"' in due

    clock.advance(days=6)  # three days past the target day
    for _ in range(3):  # the rungs without an email, then the call
        run_once(application)
    coordinator = signed_in(Role.COORDINATOR)
    late = coordinator.get("/follow-up").text
    assert "Late (1)" in late and "late: 3 days" in late
    assert "Calls and letters to make (1)" in late and "Follow up call" in late

    answer(client, record["visits"][0], "nrs-spine", {"back": 4, "leg": 2})
    answer(client, record["visits"][0], "rmdq", {str(n): 0 for n in range(1, 25)})
    done = coordinator.get("/follow-up").text
    assert "No call or letter to make." in done and "No late check-in." in done


def test_the_episode_page_charts_the_scores_against_the_mcid_band(
    client: TestClient, clock: TestClock, signed_in
) -> None:
    record = treated(client)
    clock.advance(days=12)
    visit = record["visits"][0]
    assert answer(client, visit, "nrs-spine", {"back": 2, "leg": 1}).status_code == 201
    assert (
        answer(client, visit, "rmdq", {str(n): int(n <= 4) for n in range(1, 25)}).status_code
        == 201
    )

    physician = signed_in(Role.PHYSICIAN)
    page = physician.get(f"/episodes/{record['episode_id']}/follow-up")
    assert page.status_code == 200
    html = page.text
    assert "Score trajectory" in html
    assert 'alt="Back pain: Before 6, 2 weeks 2"' in html
    assert "MCID 2.0: Ostelo et al." in html
    assert html.count('src="data:image/svg+xml;base64,') == 3  # back, leg, RMDQ
    assert "Not yet acknowledged by the patient." in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert not re.search(r"\son[a-z]+=|\sstyle=", html)


def test_the_portal_link_button_queues_an_email(
    client: TestClient, application: Application, signed_in, mailbox: Mailbox
) -> None:
    record = treated(client)
    coordinator = signed_in(Role.COORDINATOR)
    page = coordinator.get(f"/episodes/{record['episode_id']}/follow-up").text
    assert f"Email a portal link to {EMAIL}" in page
    sent = coordinator.post(
        f"/patients/{record['patient_id']}/portal-link",
        data={"episode_id": record["episode_id"]},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert "Portal link queued" in coordinator.get(sent.headers["location"]).text
    assert run_once(application).delivery.sent == 1
    [email] = mailbox.to(EMAIL)
    assert email["Subject"].endswith("your link to the patient portal")
