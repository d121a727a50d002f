"""The patient portal through HTTP (issue 8): the emailed link, its session, the questionnaires
one question per screen and resumable, the recovery plan's acknowledgement, and that a
patient reaches their own records only, each access audited. Both databases."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from regenpath.adapters.db.tables import AuditEventRow
from regenpath.bootstrap import Application
from regenpath.domain.access import Role
from regenpath.entrypoints.app import create_app
from regenpath.entrypoints.deps import PORTAL_COOKIE
from regenpath.entrypoints.worker import run_once
from tests.integration.pathway import bedside_check, inject, new_episode, walk
from tests.integration.test_api_followup import EMAIL, follow_up, treated
from tests.smtp import Mailbox
from tests.support import TestClock

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def emailed_link(mailbox: Mailbox, address: str = EMAIL) -> str:
    body = mailbox.body(mailbox.to(address)[-1])
    found = re.search(r"https?://\S+/portal/enter\?token=\S+", body)
    assert found is not None, body
    return found.group(0).split("/portal/", 1)[1]


def sign_in(browser: TestClient, link: str) -> str:
    """Open the link, press Continue; the portal's CSRF token."""
    landing = browser.get(f"/portal/{link}")
    assert landing.status_code == 200 and "Continue" in landing.text
    token = link.split("token=", 1)[1]
    entered = browser.post("/portal/enter", data={"token": token}, follow_redirects=False)
    assert entered.status_code == 303 and entered.headers["location"] == "/portal"
    home = browser.get("/portal")
    assert home.status_code == 200, home.text
    found = CSRF.search(home.text)
    assert found is not None
    return found.group(1)


def due_visit(client: TestClient, application: Application, clock: TestClock) -> dict[str, Any]:
    record = treated(client)
    clock.advance(days=11)  # the 2-week window opens: the first reminder leaves
    run_once(application)
    return record


CheckIn = tuple[dict[str, Any], str]  # the follow-up record, the portal's CSRF token


@pytest.fixture
def at_check_in(
    client: TestClient,
    application: Application,
    clock: TestClock,
    mailbox: Mailbox,
    browser: TestClient,
) -> CheckIn:
    """A patient whose 2-week check-in is open, signed in on their phone by its email."""
    record = due_visit(client, application, clock)
    return record, sign_in(browser, emailed_link(mailbox))


def answer_all(
    browser: TestClient, csrf: str, visit_id: str, code: str, answers: dict[str, int]
) -> None:
    for item, value in answers.items():
        saved = browser.post(
            f"/portal/visits/{visit_id}/{code}",
            data={"csrf_token": csrf, "item": item, "answer": str(value)},
            follow_redirects=False,
        )
        assert saved.status_code == 303, saved.text


def test_opening_the_link_spends_nothing_and_the_button_spends_it_once(
    client: TestClient,
    application: Application,
    clock: TestClock,
    mailbox: Mailbox,
    browser: TestClient,
) -> None:
    due_visit(client, application, clock)
    link = emailed_link(mailbox)
    for _ in range(2):  # a mail scanner opened it first: the link still works
        assert browser.get(f"/portal/{link}").status_code == 200
    sign_in(browser, link)
    assert browser.cookies.get(PORTAL_COOKIE)

    again = TestClient(create_app(application), base_url="https://testserver")
    refused = again.post("/portal/enter", data={"token": link.split("token=")[1]})
    assert refused.status_code == 401
    assert "used or has expired" in refused.text
    assert "Traceback" not in refused.text


def test_an_expired_link_or_session_asks_for_a_new_link(
    client: TestClient,
    application: Application,
    clock: TestClock,
    mailbox: Mailbox,
    browser: TestClient,
) -> None:
    due_visit(client, application, clock)
    link = emailed_link(mailbox)
    sign_in(browser, link)
    clock.advance(hours=3)  # the session lasts 2 hours by default
    ended = browser.get("/portal")
    assert ended.status_code == 401
    assert "latest email" in ended.text

    clock.advance(days=3)  # past the link's 72 hours
    run_once(application)  # the target day: the second reminder carries a new link
    stale = TestClient(create_app(application), base_url="https://testserver")
    assert stale.post("/portal/enter", data={"token": link.split("token=")[1]}).status_code == 401
    sign_in(
        TestClient(create_app(application), base_url="https://testserver"), emailed_link(mailbox)
    )


def test_questionnaires_one_question_at_a_time_resume_and_complete_the_time_point(
    at_check_in: CheckIn,
    client: TestClient,
    browser: TestClient,
    application: Application,
    clock: TestClock,
    mailbox: Mailbox,
) -> None:
    record, csrf = at_check_in
    visit_id = record["visits"][0]["id"]
    home = browser.get("/portal").text
    assert "2 weeks check-in" in home
    assert "Start: Back and leg pain (0-10)" in home
    assert "Start: Roland-Morris Disability Questionnaire" in home

    first = browser.get(f"/portal/visits/{visit_id}/nrs-spine")
    assert "Question 1 of 2" in first.text
    assert "Riverside Spine</span>" in first.text  # the clinic, and its phone, on every page
    assert 'href="tel:+13125550142"' in first.text
    assert "how bad has your back pain been" in first.text
    answer_all(browser, csrf, visit_id, "nrs-spine", {"back": 3, "leg": 1})
    review = browser.get(f"/portal/visits/{visit_id}/nrs-spine")
    assert "Send my answers" in review.text

    # Six statements of the RMDQ, then the phone is put away: the answers are kept.
    answer_all(browser, csrf, visit_id, "rmdq", {str(n): int(n <= 3) for n in range(1, 7)})
    assert "Continue: Roland-Morris" in browser.get("/portal").text
    resumed = browser.get(f"/portal/visits/{visit_id}/rmdq")
    assert "Question 7 of 24" in resumed.text
    back = browser.get(f"/portal/visits/{visit_id}/rmdq?item=2")
    assert 'class="answer chosen" aria-pressed="true">Yes' in back.text

    answer_all(browser, csrf, visit_id, "rmdq", {str(n): 0 for n in range(7, 25)})
    for code in ("nrs-spine", "rmdq"):
        sent = browser.post(
            f"/portal/visits/{visit_id}/{code}/completion",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        assert sent.status_code == 303 and sent.headers["location"] == f"/portal?sent={code}"

    visit = follow_up(client, record["episode_id"])["visits"][0]
    assert visit["status"] == "completed"
    scores = {r["instrument"]: r["scores"] for r in visit["responses"]}
    assert scores == {"nrs-spine": {"back": 3.0, "leg": 1.0}, "rmdq": {"total": 3.0}}
    assert {r["entered_by"] for r in visit["responses"]} == {f"patient:{record['patient_id']}"}
    home = browser.get("/portal").text
    assert "Nothing to fill in today" in home
    assert 'alt="Back pain: Before 6, 2 weeks 3"' in home  # the patient's own chart

    clock.advance(days=3)  # the target day: the ladder has stopped
    quiet = run_once(application)
    assert (quiet.rules.emails, quiet.delivery.sent) == (0, 0)
    assert len(mailbox.to(EMAIL)) == 1


def test_a_box_the_question_does_not_have_is_refused_and_nothing_is_stored(
    at_check_in: CheckIn, client: TestClient, browser: TestClient
) -> None:
    record, csrf = at_check_in
    visit_id = record["visits"][0]["id"]
    refused = browser.post(
        f"/portal/visits/{visit_id}/nrs-spine",
        data={"csrf_token": csrf, "item": "back", "answer": "11"},
    )
    assert refused.status_code == 422
    assert "outside 0-10" in refused.text
    blank = browser.post(
        f"/portal/visits/{visit_id}/nrs-spine", data={"csrf_token": csrf, "item": "back"}
    )
    assert blank.status_code == 422
    assert follow_up(client, record["episode_id"])["visits"][0]["responses"] == []


def test_the_patient_acknowledges_the_recovery_plan(
    at_check_in: CheckIn, client: TestClient, browser: TestClient
) -> None:
    record, csrf = at_check_in
    home = browser.get("/portal").text
    assert "Your recovery plan" in home and "I have read my recovery plan" in home
    forged = browser.post(
        f"/portal/episodes/{record['episode_id']}/recovery-plan/acknowledgement",
        data={"csrf_token": "not-this-session"},
    )
    assert forged.status_code == 403
    done = browser.post(
        f"/portal/episodes/{record['episode_id']}/recovery-plan/acknowledgement",
        data={"csrf_token": csrf},
    )
    assert done.status_code == 200 and "You confirmed you have read this plan" in done.text
    plan = follow_up(client, record["episode_id"])["recovery_plan"]
    assert plan["acknowledged_at"] is not None


def test_a_patient_reaches_only_their_own_records_and_every_access_is_audited(
    client: TestClient,
    application: Application,
    clock: TestClock,
    mailbox: Mailbox,
    browser: TestClient,
) -> None:
    patient, episode = new_episode(
        client, "FU-2002", "Hopper", "Grace", "1966-12-09", email="grace@example.org"
    )
    released = walk(client, episode, until="released")
    bedside_check(client, released, patient)
    assert inject(client, released).status_code == 201
    mine = due_visit(client, application, clock)
    csrf = sign_in(browser, emailed_link(mailbox))
    theirs = follow_up(client, episode["id"])["visits"][0]
    assert theirs["status"] == "due"

    assert browser.get(f"/portal/visits/{theirs['id']}/rmdq").status_code == 404
    stolen = browser.post(
        f"/portal/visits/{theirs['id']}/rmdq",
        data={"csrf_token": csrf, "item": "1", "answer": "1"},
    )
    assert stolen.status_code == 404
    other_plan = browser.post(
        f"/portal/episodes/{episode['id']}/recovery-plan/acknowledgement",
        data={"csrf_token": csrf},
    )
    assert other_plan.status_code == 404
    assert "Grace" not in browser.get("/portal").text

    # The portal's cookie opens neither the staff API nor the staff pages.
    assert browser.get(f"/api/v1/episodes/{mine['episode_id']}/follow-up").status_code == 401
    staff_page = browser.get("/worklist", follow_redirects=False)
    assert staff_page.status_code == 303 and staff_page.headers["location"].startswith("/login")

    with application.engine.connect() as connection:
        trail = connection.execute(
            select(AuditEventRow.action, AuditEventRow.resource_type, AuditEventRow.outcome)
            .where(AuditEventRow.actor == f"patient:{mine['patient_id']}")
            .order_by(AuditEventRow.sequence)
        ).all()
        logins = connection.execute(
            select(AuditEventRow.outcome).where(
                AuditEventRow.action == "login",
                AuditEventRow.resource_type == "portal",
                AuditEventRow.resource_id == mine["patient_id"],
            )
        ).all()
    assert ("read", "follow_up", "succeeded") in {(str(a), r, str(o)) for a, r, o in trail}
    assert [str(outcome) for (outcome,) in logins] == ["succeeded"]


def test_staff_send_a_portal_link_and_a_patient_signs_out(
    client: TestClient,
    application: Application,
    clock: TestClock,
    mailbox: Mailbox,
    browser: TestClient,
) -> None:
    record = treated(client)
    sent = client.post(
        f"/api/v1/patients/{record['patient_id']}/portal-link",
        headers=client.as_role(Role.COORDINATOR),  # type: ignore[attr-defined]
    )
    assert sent.status_code == 202, sent.text
    run_once(application)
    csrf = sign_in(browser, emailed_link(mailbox))
    home = browser.get("/portal").text
    assert "Nothing to fill in today" in home and "Coming check-ins" in home
    out = browser.post("/portal/sign-out", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert browser.get("/portal").status_code == 401


def test_a_link_cut_short_gets_a_page_that_says_so(browser: TestClient) -> None:
    for url in ("/portal/enter?token=abc", "/portal/enter"):
        cut = browser.get(url)
        assert cut.status_code == 400 and cut.headers["content-type"].startswith("text/html")
        assert "This link is incomplete" in cut.text
