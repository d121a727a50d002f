"""Follow-up through the API and the worker (issue 8): the injection starts the schedule, the
worker climbs the reminder ladder through a real SMTP server, answers complete the time point
and stop the ladder, two missed time points make the episode lost and an answer brings it
back. Both databases."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from regenpath.bootstrap import Application
from regenpath.domain.access import Role
from regenpath.entrypoints.worker import run_once
from tests.integration.pathway import bedside_check, inject, new_episode, walk
from tests.smtp import Mailbox
from tests.support import TestClock

EMAIL = "ada.lovelace@example.org"
RMDQ_SIX = {str(n): int(n <= 6) for n in range(1, 25)}


def treated(client: TestClient, email: str | None = EMAIL) -> dict[str, Any]:
    """A lumbar-disc patient injected at the test clock's start: the follow-up record."""
    patient, episode = new_episode(
        client, "FU-1001", "Lovelace", "Ada", "1969-12-10", email=email, phone="+1 555 0100"
    )
    released = walk(client, episode, until="released")
    bedside_check(client, released, patient)
    response = inject(client, released)
    assert response.status_code == 201, response.text
    return follow_up(client, episode["id"])


def follow_up(client: TestClient, episode_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/episodes/{episode_id}/follow-up")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def answer(
    client: TestClient, visit: dict[str, Any], instrument: str, answers: dict[str, Any]
) -> Any:
    return client.post(
        f"/api/v1/follow-up/visits/{visit['id']}/responses",
        json={"instrument": instrument, "answers": answers},
        headers=client.as_role(Role.COORDINATOR),  # type: ignore[attr-defined]
    )


def test_scoring_an_answer_set_stores_nothing_and_names_an_item_out_of_range(
    client: TestClient,
) -> None:
    scored = client.post("/api/v1/instruments/odi/score", json={"answers": {"walking": [1, 3]}})
    assert scored.status_code == 200
    assert scored.json()["scores"] == {"total": None}
    assert "at least 9" in scored.json()["not_scored"]["total"]
    refused = client.post("/api/v1/instruments/nrs-spine/score", json={"answers": {"back": 11}})
    assert refused.status_code == 422
    assert refused.json()["field"] == "back"
    unknown = client.post("/api/v1/instruments/sf-36/score", json={"answers": {}})
    assert unknown.status_code == 422


def test_the_injection_starts_the_fu1_schedule_and_the_recovery_plan(client: TestClient) -> None:
    record = treated(client)
    assert [v["label"] for v in record["visits"]][:6] == [
        "2 weeks", "6 weeks", "3 months", "6 months", "12 months", "24 months",
    ]  # fmt: skip
    assert {v["status"] for v in record["visits"]} == {"upcoming"}
    assert record["instruments"] == ["nrs-spine", "rmdq"]  # no ODI without its licensed text
    assert record["stage"] == "recovery"
    plan = record["recovery_plan"]
    assert plan["no_nsaids_until"] == "2026-03-16"
    assert plan["phases"][0]["title"].startswith("Rest")


def test_the_ladder_emails_then_answers_complete_the_time_point_and_stop_it(
    client: TestClient, application: Application, clock: TestClock, mailbox: Mailbox
) -> None:
    record = treated(client)
    first = record["visits"][0]
    clock.advance(days=11)  # the 2-week window opens
    run = run_once(application)
    assert (run.rules.emails, run.delivery.sent) == (1, 1)
    [email] = mailbox.to(EMAIL)
    assert email["Subject"].endswith("your 2 weeks check-in")
    assert "/portal/enter?token=" in mailbox.body(email)
    assert run_once(application).delivery.sent == 0  # nothing twice

    clock.advance(days=3)  # the target day: the second email, and recovery ends (RCV-1)
    run = run_once(application)
    assert (run.rules.emails, run.rules.to_follow_up) == (1, 1)
    assert answer(client, first, "nrs-spine", {"back": 3, "leg": 1}).status_code == 201
    assert answer(client, first, "rmdq", RMDQ_SIX).status_code == 201

    record = follow_up(client, record["episode_id"])
    visit = record["visits"][0]
    assert visit["status"] == "completed"
    scores = {r["instrument"]: r["scores"] for r in visit["responses"]}
    assert scores == {"nrs-spine": {"back": 3.0, "leg": 1.0}, "rmdq": {"total": 6.0}}
    clock.advance(days=10)
    quiet = run_once(application)
    assert (quiet.rules.emails, quiet.rules.calls, quiet.delivery.sent) == (0, 0, 0)
    assert len(mailbox.to(EMAIL)) == 2


def test_an_answer_out_of_range_names_the_item_and_nothing_is_stored(
    client: TestClient, clock: TestClock
) -> None:
    record = treated(client)
    clock.advance(days=12)
    refused = answer(client, record["visits"][0], "rmdq", RMDQ_SIX | {"7": 2})
    assert refused.status_code == 422
    assert refused.json()["field"] == "7"
    assert follow_up(client, record["episode_id"])["visits"][0]["responses"] == []


def test_without_an_email_the_ladder_goes_to_a_call_then_a_letter(
    client: TestClient, application: Application, clock: TestClock, mailbox: Mailbox
) -> None:
    record = treated(client, email=None)
    clock.advance(days=11)
    for _ in range(4):  # days 11, 14, 17 and 20: two rungs passed, a call, a letter
        run_once(application)
        clock.advance(days=3)
    clock.advance(days=-3)  # day 20: the window is still open
    tasks = client.get("/api/v1/tasks", headers=client.as_role(Role.COORDINATOR))  # type: ignore[attr-defined]
    kinds = sorted(t["kind"] for t in tasks.json())
    assert kinds == ["follow_up_call", "follow_up_letter"]
    assert mailbox.messages == []
    assert (
        answer(client, record["visits"][0], "nrs-spine", {"back": 2, "leg": 0}).status_code == 201
    )
    assert answer(client, record["visits"][0], "rmdq", {}).status_code == 201
    tasks = client.get("/api/v1/tasks", headers=client.as_role(Role.COORDINATOR))  # type: ignore[attr-defined]
    assert tasks.json() == []  # no open task left: the ladder's tasks closed with it


def test_two_missed_time_points_make_the_episode_lost_and_an_answer_brings_it_back(
    client: TestClient, application: Application, clock: TestClock, mailbox: Mailbox
) -> None:
    record = treated(client)
    second = record["visits"][1]
    clock.advance(days=42 + 15)  # past the 6-week window: 2 weeks and 6 weeks missed
    run_once(application)
    run = run_once(application)
    assert follow_up(client, record["episode_id"])["stage"] == "lost_to_follow_up"
    assert run.rules.lost == 0  # once only
    clock.advance(days=91 - 57 - 10)  # the 3-month window is open
    third = follow_up(client, record["episode_id"])["visits"][2]
    assert third["status"] == "due"
    assert answer(client, third, "nrs-spine", {"back": 4, "leg": 2}).status_code == 201
    assert answer(client, third, "rmdq", RMDQ_SIX).status_code == 201
    back = follow_up(client, record["episode_id"])
    assert back["stage"] == "follow_up"
    assert [v["status"] for v in back["visits"][:3]] == ["missed", "missed", "completed"]
    assert second["id"] == back["visits"][1]["id"]


def test_a_staff_member_sends_the_portal_link_by_email(
    client: TestClient, application: Application, mailbox: Mailbox
) -> None:
    treated(client)
    patients = client.get("/api/v1/patients", params={"mrn": "FU-1001"}).json()
    patient_id = patients["items"][0]["id"]
    sent = client.post(
        f"/api/v1/patients/{patient_id}/portal-link",
        headers=client.as_role(Role.NURSE),  # type: ignore[attr-defined]
    )
    assert sent.status_code == 202, sent.text
    assert run_once(application).delivery.sent == 1
    assert "portal" in mailbox.to(EMAIL)[0]["Subject"]
