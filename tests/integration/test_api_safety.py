"""Adverse events and the reporting clocks through the API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from regenpath.domain.access import Role
from tests.integration.pathway import bedside_check, episode_now, inject, walk

INFECTION = {
    "term_code": "INFECTION",
    "onset_on": "2026-03-02",
    "grade": 3,
    "seriousness": ["hospitalization"],
    "outcome": "recovering",
    "related_product": "probable",
    "related_injection": "possible",
    "description": "Fever and a hot, swollen injection site on day 0; admitted for IV antibiotics.",
}


def injected(client: TestClient, episode, patient, clock):
    released = walk(client, episode, until="released")
    bedside_check(client, released, patient)
    clock.advance(minutes=2)
    response = inject(client, released)
    assert response.status_code == 201, response.text
    return episode_now(client, episode)


def test_RPT_1_a_serious_infection_opens_a_3500a_due_in_15_days(
    client: TestClient, episode, patient, clock
) -> None:
    episode = injected(client, episode, patient, clock)
    response = client.post(f"/api/v1/episodes/{episode['id']}/adverse-events", json=INFECTION)
    assert response.status_code == 201, response.text
    [report] = response.json()["reports"]
    assert (report["rule_id"], report["form"]) == ("RPT-1", "FDA 3500A")
    assert (report["discovered_on"], report["due_on"]) == ("2026-03-02", "2026-03-17")
    assert response.json()["adverse_event"]["product_ids"] == [episode["cycles"][0]["product_id"]]

    officer = client.as_role(Role.QUALITY_OFFICER)  # type: ignore[attr-defined]
    clock.advance(days=15)
    on_time = client.get("/api/v1/reports", headers=officer).json()["reports"][0]
    assert on_time["overdue"] is False and on_time["days_left"] == 0
    clock.advance(days=1)
    late = client.get("/api/v1/reports", headers=officer).json()["reports"][0]
    assert late["overdue"] is True

    fields = client.get(f"/api/v1/reports/{report['id']}/form-3500a", headers=officer).json()
    assert fields["B. Adverse event"]["Outcomes"] == ["hospitalization"]
    assert fields["C. Product (HCT/P)"][0]["Distinct identification code (DIN)"]
    assert fields["A. Patient information"]["Identifier"] == "AH"  # initials, never the name

    closed = client.post(
        f"/api/v1/reports/{report['id']}/submission",
        json={"submitted_on": "2026-03-18", "reference": "MW-5512345"},
        headers=officer,
    )
    assert closed.status_code == 200 and closed.json()["status"] == "submitted"
    assert client.get("/api/v1/reports", headers=officer).json()["reports"] == []


def test_REC_1_a_submission_dated_in_the_future_closes_no_report(
    client: TestClient, episode, patient, clock
) -> None:
    """Issue 19: a 3500A "submitted" in 2030 closed its clock; the date is the clinic's today
    at the latest."""
    episode = injected(client, episode, patient, clock)
    report = client.post(f"/api/v1/episodes/{episode['id']}/adverse-events", json=INFECTION).json()[
        "reports"
    ][0]
    officer = client.as_role(Role.QUALITY_OFFICER)  # type: ignore[attr-defined]
    url = f"/api/v1/reports/{report['id']}/submission"
    for when in ("2030-01-01", "2026-03-03"):  # the tests' clinic is on 2 March 2026
        refused = client.post(
            url, json={"submitted_on": when, "reference": "MW-1"}, headers=officer
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "submitted_on"
    assert client.get("/api/v1/reports", headers=officer).json()["reports"][0]["id"] == report["id"]
    today = client.post(
        url, json={"submitted_on": "2026-03-02", "reference": "MW-1"}, headers=officer
    )
    assert today.status_code == 200, today.text


def test_a_mild_flare_opens_no_report(client: TestClient, episode, patient, clock) -> None:
    episode = injected(client, episode, patient, clock)
    flare = {
        "term_code": "POST_FLARE",
        "onset_on": "2026-03-02",
        "grade": 1,
        "outcome": "recovered",
    }
    response = client.post(f"/api/v1/episodes/{episode['id']}/adverse-events", json=flare)
    assert response.status_code == 201 and response.json()["reports"] == []


def test_RPT_2_a_bedside_stop_on_a_released_product_is_a_deviation_due_in_45_days(
    client: TestClient, episode, patient
) -> None:
    released = walk(client, episode, until="released")
    bedside_check(client, released, patient, wristband_mrn="RS-999999")
    officer = client.as_role(Role.QUALITY_OFFICER)  # type: ignore[attr-defined]
    [report] = client.get("/api/v1/reports", headers=officer).json()["reports"]
    assert (report["rule_id"], report["form"], report["due_on"]) == (
        "RPT-2",
        "FDA 3486",
        "2026-04-16",
    )


def test_bad_input_is_422_naming_the_field_and_stores_nothing(
    client: TestClient, episode, patient, clock
) -> None:
    episode = injected(client, episode, patient, clock)
    url = f"/api/v1/episodes/{episode['id']}/adverse-events"
    for change, field in (
        ({"grade": 6}, "grade"),
        ({"onset_on": "2026-02-20"}, "onset_on"),
        ({"resolved_on": "2026-03-01"}, "resolved_on"),
        ({"resolved_on": "2030-01-01"}, "resolved_on"),  # a resolution not yet happened
        ({"term_code": "HEADACHE"}, "term"),
    ):
        response = client.post(url, json=INFECTION | change)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["field"] == field
    assert client.get(url).json() == []
    officer = client.as_role(Role.QUALITY_OFFICER)  # type: ignore[attr-defined]
    assert client.get("/api/v1/reports", headers=officer).json()["reports"] == []


def test_before_consent_there_is_no_adverse_event_to_record(client: TestClient, episode) -> None:
    response = client.post(f"/api/v1/episodes/{episode['id']}/adverse-events", json=INFECTION)
    assert response.status_code == 422 and response.json()["field"] == "episode_id"


def test_a_signal_alert_opens_a_task_for_the_quality_officer(
    client: TestClient, application, episode, patient, clock
) -> None:
    episode = injected(client, episode, patient, clock)
    # One event is far from an alert at the shipped threshold; a clinic may set its own.
    application.settings.signal_threshold = 1.5
    response = client.post(f"/api/v1/episodes/{episode['id']}/adverse-events", json=INFECTION)
    assert response.status_code == 201, response.text
    officer = client.as_role(Role.QUALITY_OFFICER)  # type: ignore[attr-defined]
    found = client.get("/api/v1/safety-signals", headers=officer).json()
    alerts = {(s["kind"], s["alert_at"]) for s in found if s["alert"]}
    assert ("clinic", 1) in alerts and ("practitioner", 1) in alerts
    clinic = next(s for s in found if s["kind"] == "clinic")
    assert (clinic["events"], clinic["administrations"]) == (1, 1)
    assert clinic["ci95"][0] == pytest.approx(0.2065, abs=1e-4)  # Wilson, 1 of 1
    titles = [t["title"] for t in client.get("/api/v1/tasks", headers=officer).json()]
    assert any(t.startswith("Safety signal: clinic") for t in titles)


def test_RPT_2_a_deviation_recorded_by_hand_is_due_only_if_the_product_was_distributed(
    client: TestClient, clinic, episode
) -> None:
    officer = client.as_role(Role.QUALITY_OFFICER)  # type: ignore[attr-defined]
    body = {
        "clinic_id": clinic["id"],
        "description": "Consent form version not checked",
        "distributed": False,
    }
    kept = client.post("/api/v1/deviations", json=body, headers=officer)
    assert kept.status_code == 201 and kept.json()["report"] is None
    shipped = client.post(
        "/api/v1/deviations",
        json=body | {"distributed": True, "kind": "unreleased_product_use_attempt"},
        headers=officer,
    )
    assert shipped.status_code == 201
    assert (shipped.json()["report"]["rule_id"], shipped.json()["report"]["due_on"]) == (
        "RPT-2",
        "2026-04-16",
    )
    for change, field in (
        ({"description": " "}, "description"),
        ({"din": "W999926000001Z"}, "din"),
    ):
        refused = client.post("/api/v1/deviations", json=body | change, headers=officer)
        assert refused.status_code == 422 and field in str(refused.json())
    assert (
        client.post("/api/v1/deviations", json=body, headers=client.as_role(Role.NURSE)).status_code
        == 403
    )  # type: ignore[attr-defined]
