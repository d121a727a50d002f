"""A problem the patient reports in the portal and its triage by staff (issue 9, items 1 and
5): the portal shows emergencies first and the clinic's number; a report opens a triage task;
recorded as an adverse event, its reporting clocks count from the day the patient reported it
(RPT-1); answered as not one, it needs a note. Both databases."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from regenpath.bootstrap import Application
from regenpath.domain.access import Role
from tests.integration.test_portal import CheckIn, at_check_in
from tests.support import TestClock

__all__ = ["at_check_in"]  # the fixture, imported for this module's tests

INFECTION = {
    "term_code": "INFECTION",
    "grade": "3",
    "outcome": "recovering",
    "seriousness": ["hospitalization"],
    "related_injection": "probable",
}


def report(browser: TestClient, csrf: str, episode_id: str, **form: str) -> Any:
    body = {
        "csrf_token": csrf,
        "episode_id": episode_id,
        "description": "The knee is hot and swollen and I have a fever since yesterday.",
        "concern": "very_much",
    }
    return browser.post("/portal/problem", data=body | form, follow_redirects=False)


def test_the_portal_shows_emergencies_first_and_the_clinics_number(
    at_check_in: CheckIn, browser: TestClient
) -> None:
    page = browser.get("/portal/problem").text
    assert page.index("Call 911") < page.index("What is happening?")
    assert "loss of bladder or bowel control" in page
    assert "+1 312 555 0142" in browser.get("/portal").text  # the clinic's phone, on every page


def test_a_report_without_words_is_refused_and_nothing_is_stored(
    at_check_in: CheckIn, browser: TestClient, client: TestClient
) -> None:
    record, csrf = at_check_in
    refused = report(browser, csrf, record["episode_id"], description="   ")
    assert refused.status_code == 422
    assert 'id="description-error"' in refused.text
    future = report(browser, csrf, record["episode_id"], started_on="2030-01-01")
    assert future.status_code == 422 and 'id="started_on-error"' in future.text
    listed = client.get("/api/v1/patient-reports", headers=client.as_role(Role.NURSE))  # type: ignore[attr-defined]
    assert listed.json() == []


def test_recorded_as_an_adverse_event_the_clock_runs_from_the_patients_report(
    at_check_in: CheckIn,
    browser: TestClient,
    client: TestClient,
    clock: TestClock,
    application: Application,
) -> None:
    record, csrf = at_check_in
    sent = report(browser, csrf, record["episode_id"], started_on="2026-03-12")
    assert sent.status_code == 303 and sent.headers["location"] == "/portal?reported=1"
    nurse = client.as_role(Role.NURSE)  # type: ignore[attr-defined]
    tasks = client.get("/api/v1/tasks", headers=nurse).json()
    assert [t["kind"] for t in tasks if t["kind"] == "patient_report"] == ["patient_report"]
    [awaiting] = client.get("/api/v1/patient-reports", headers=nurse).json()
    assert awaiting["concern"] == "very_much" and awaiting["triage"] == "awaiting"

    clock.advance(days=3)  # staff read it three days later
    recorded = client.post(
        f"/api/v1/episodes/{record['episode_id']}/adverse-events",
        json=INFECTION
        | {"onset_on": "2026-03-12", "grade": 3, "patient_report_id": awaiting["id"]},
        headers=client.as_role(Role.PHYSICIAN),  # type: ignore[attr-defined]
    )
    assert recorded.status_code == 201, recorded.text
    [rpt_1] = recorded.json()["reports"]
    assert rpt_1["rule_id"] == "RPT-1"
    # 15 calendar days from the day of the report, not of the triage (RPT-1)
    reported_on = date.fromisoformat(awaiting["reported_at"][:10])
    assert date.fromisoformat(rpt_1["due_on"]) == reported_on + timedelta(days=15)
    triaged = client.get(
        "/api/v1/patient-reports", params={"triage": "adverse_event"}, headers=nurse
    ).json()
    assert triaged[0]["adverse_event_id"] == recorded.json()["adverse_event"]["id"]
    assert [
        t
        for t in client.get("/api/v1/tasks", headers=nurse).json()
        if t["kind"] == "patient_report"
    ] == []
    again = client.post(
        f"/api/v1/episodes/{record['episode_id']}/adverse-events",
        json=INFECTION
        | {"onset_on": "2026-03-12", "grade": 3, "patient_report_id": awaiting["id"]},
        headers=client.as_role(Role.PHYSICIAN),  # type: ignore[attr-defined]
    )
    assert again.status_code == 422 and again.json()["field"] == "patient_report_id"


def test_answered_as_not_an_adverse_event_it_needs_a_note_and_a_role_that_triages(
    at_check_in: CheckIn, browser: TestClient, client: TestClient, signed_in
) -> None:
    record, csrf = at_check_in
    report(browser, csrf, record["episode_id"], concern="a_little", description="Bruise")
    [awaiting] = client.get(
        "/api/v1/patient-reports",
        headers=client.as_role(Role.NURSE),  # type: ignore[attr-defined]
    ).json()
    url = f"/api/v1/patient-reports/{awaiting['id']}/dismissal"
    coordinator = client.post(url, json={"note": "ok"}, headers=client.as_role(Role.COORDINATOR))  # type: ignore[attr-defined]
    assert coordinator.status_code == 403
    blank = client.post(url, json={"note": " "}, headers=client.as_role(Role.NURSE))  # type: ignore[attr-defined]
    assert blank.status_code == 422 and blank.json()["field"] == "note"

    nurse = signed_in(Role.NURSE)
    assert f'href="/patient-reports/{awaiting["id"]}"' in nurse.get("/tasks").text
    task = nurse.get(f"/patient-reports/{awaiting['id']}", follow_redirects=False)
    assert task.headers["location"].startswith(f"/episodes/{record['episode_id']}/adverse-events")
    page = nurse.get(f"/episodes/{record['episode_id']}/adverse-events").text
    assert "Reported by the patient, awaiting triage (1)" in page and "Bruise" in page
    prefilled = nurse.get(
        f"/episodes/{record['episode_id']}/adverse-events?from_report={awaiting['id']}"
    ).text
    assert f'name="patient_report_id" value="{awaiting["id"]}"' in prefilled
    done = nurse.post(
        f"/patient-reports/{awaiting['id']}/dismissal",
        data={"episode_id": record["episode_id"], "note": "Expected bruising; told to ice it"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = nurse.get(done.headers["location"]).text
    assert "answered as not an adverse event" in after and "awaiting triage" not in after
