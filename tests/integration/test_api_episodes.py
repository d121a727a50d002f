"""Care episodes and their transitions through the HTTP API, on every database."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from regenpath.domain.pathway import TRANSITIONS, Stage
from tests.integration.pathway import DONOR_PLAN, bedside_check, consent_to, inject, move, walk

PROBLEM = "application/problem+json"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def test_an_opened_episode_starts_referred_and_lists_its_allowed_moves(episode) -> None:
    assert episode["stage"] == "referred"
    assert episode["version"] == 1
    assert [t["to"] for t in episode["allowed_transitions"]] == ["in_evaluation", "withdrawn"]


def test_an_episode_for_an_unknown_patient_names_patient_id(client: TestClient) -> None:
    response = client.post(
        "/api/v1/episodes",
        json={
            "patient_id": UNKNOWN,
            "condition_code": "M51.36",
            "condition_text": "Disc",
            "target_site": "L4-L5",
        },
    )
    assert response.status_code == 422
    assert response.json()["field"] == "patient_id"


def test_a_condition_that_is_not_an_icd10cm_code_is_refused(client: TestClient, patient) -> None:
    response = client.post(
        "/api/v1/episodes",
        json={
            "patient_id": patient["id"],
            "condition_code": "bad back",
            "condition_text": "Disc",
            "target_site": "L4-L5",
        },
    )
    assert response.status_code == 422
    assert response.json()["field"] == "condition_code"


def test_the_autologous_pathway_from_referral_to_completion(
    client: TestClient, episode, patient, clock
) -> None:
    released = walk(client, episode, until="released")
    product_id = released["cycles"][0]["product_id"]
    assert product_id is not None
    clock.advance(hours=2)
    check = bedside_check(client, released, patient)
    assert check["passed"] is True
    response = inject(client, released)
    assert response.status_code == 201, response.text
    administered = response.json()["episode"]
    assert administered["stage"] == "recovery"
    product = client.get(f"/api/v1/products/{product_id}").json()["product"]
    assert product["status"] == "administered"
    for stage in ("follow_up", "completed"):
        administered = move(client, administered, stage)
    assert administered["closed_at"] is not None
    timeline = client.get(f"/api/v1/episodes/{episode['id']}/timeline").json()
    assert [t["to_stage"] for t in timeline] == [
        "in_evaluation", "eligible", "consented", "planned", "harvested", "processed",
        "released", "administered", "recovery", "follow_up", "completed",
    ]  # fmt: skip


def test_an_allogeneic_cycle_cannot_allocate_a_product_of_another_clinic(
    client: TestClient, episode
) -> None:
    consented = consent_to(client, walk(client, episode, until="eligible"), **DONOR_PLAN)
    planned = move(client, consented, "planned", cell_source="allogeneic")
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/transitions",
        json={"to": "product_allocated", "version": planned["version"], "product_id": UNKNOWN},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "product_id"


def test_BED_1_the_injection_is_refused_without_a_bedside_check(
    client: TestClient, episode
) -> None:
    released = walk(client, episode, until="released")
    response = inject(client, released)
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["guard"] == "bedside_verification_required"


def test_BED_1_a_wristband_mismatch_is_recorded_and_blocks_the_injection(
    client: TestClient, episode, patient
) -> None:
    released = walk(client, episode, until="released")
    check = bedside_check(client, released, patient, wristband_birth_date="1968-04-13")
    assert check["passed"] is False
    assert check["mismatches"] == ["the wristband birth date is not this patient's"]
    response = inject(client, released)
    assert response.json()["guard"] == "bedside_verification_failed"


def test_EXP_1_an_expired_product_is_refused_even_after_a_passed_check(
    client: TestClient, episode, patient, clock
) -> None:
    released = walk(client, episode, until="released")
    clock.advance(hours=49)  # the default maximum hold is 48 h from harvest
    check = bedside_check(client, released, patient)
    assert check["passed"] is False  # the nurse is told at the bedside already
    assert any("expired" in m for m in check["mismatches"])
    response = inject(client, released)
    assert response.status_code == 409
    assert "product_expired" in [g["guard"] for g in response.json()["guards"]]


def episode_in(client: TestClient, episode, stage: str, patient) -> dict:
    if stage == "referred":
        return episode
    if stage in ("follow_up", "completed"):
        released = walk(client, episode, until="released")
        bedside_check(client, released, patient)
        current = inject(client, released).json()["episode"]
        for next_stage in ("follow_up", "completed"):
            current = move(client, current, next_stage)
            if next_stage == stage:
                return current
    return walk(client, episode, until=stage)


@pytest.mark.parametrize("stage", ["referred", "consented", "released", "follow_up", "completed"])
def test_every_forbidden_transition_names_its_guard_and_writes_nothing(
    client: TestClient, episode, patient, stage: str
) -> None:
    current = episode_in(client, episode, stage, patient)
    timeline_before = client.get(f"/api/v1/episodes/{episode['id']}/timeline").json()
    forbidden = [target for target in Stage if (Stage(stage), target) not in TRANSITIONS]
    assert forbidden
    for target in forbidden:
        response = client.post(
            f"/api/v1/episodes/{episode['id']}/transitions",
            json={"to": target.value, "version": current["version"], "reason": "test"},
        )
        assert response.status_code == 409, (target, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["guard"] == "transition_not_allowed"
    assert client.get(f"/api/v1/episodes/{episode['id']}").json() == current
    assert client.get(f"/api/v1/episodes/{episode['id']}/timeline").json() == timeline_before


def test_a_withdrawal_without_a_reason_names_the_reason_field(client: TestClient, episode) -> None:
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/transitions", json={"to": "withdrawn", "version": 1}
    )
    assert response.status_code == 422
    assert response.json() | {"guard": "reason_required", "field": "reason"} == response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": "discharged", "version": 1}, "to"),
        ({"to": "in_evaluation"}, "version"),
        ({"to": "in_evaluation", "version": "one"}, "version"),
        ({"to": "planned", "version": 1, "cell_source": "xenogeneic"}, "cell_source"),
        ({"to": "in_evaluation", "version": 1, "colour": "red"}, "colour"),
    ],
)
def test_a_bad_transition_request_names_the_field(client: TestClient, episode, body, field) -> None:
    response = client.post(f"/api/v1/episodes/{episode['id']}/transitions", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == field


def test_a_transition_of_an_unknown_episode_is_404(client: TestClient) -> None:
    response = client.post(
        f"/api/v1/episodes/{UNKNOWN}/transitions", json={"to": "in_evaluation", "version": 1}
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_a_stale_version_answers_409_and_writes_nothing(client: TestClient, episode) -> None:
    move(client, episode, "in_evaluation")
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/transitions",
        json={"to": "withdrawn", "version": 1, "reason": "x"},
    )
    assert response.status_code == 409
    assert response.json()["field"] == "version"
    assert client.get(f"/api/v1/episodes/{episode['id']}").json()["stage"] == "in_evaluation"


def test_episodes_are_listed_by_stage_and_clinic_longest_waiting_first(
    client: TestClient, clinic, patient, episode, clock
) -> None:
    clock.advance(minutes=5)
    second = client.post(
        "/api/v1/episodes",
        json={
            "patient_id": patient["id"],
            "condition_code": "M17.11",
            "condition_text": "Knee OA",
            "target_site": "Knee",
            "laterality": "right",
        },
    ).json()
    clock.advance(minutes=5)
    move(client, second, "in_evaluation")
    referred = client.get("/api/v1/episodes", params={"stage": "referred"}).json()["items"]
    assert [e["id"] for e in referred] == [episode["id"]]
    assert referred[0]["patient_mrn"] == "RS-000001"
    mine = client.get("/api/v1/episodes", params={"clinic_id": clinic["id"]}).json()["items"]
    assert [e["id"] for e in mine] == [episode["id"], second["id"]]
    other = client.get("/api/v1/episodes", params={"clinic_id": UNKNOWN}).json()["items"]
    assert other == []
    counts = client.get("/api/v1/worklist").json()["counts"]
    assert counts["referred"] == 1 and counts["in_evaluation"] == 1 and counts["completed"] == 0


def test_an_unknown_stage_filter_is_a_clear_error(client: TestClient) -> None:
    response = client.get("/api/v1/episodes", params={"stage": "discharged"})
    assert response.status_code == 422
    assert response.json()["field"] == "stage"


def test_RCV_1_follow_up_before_the_recovery_is_over_needs_a_reason(
    client: TestClient, episode, patient, clock
) -> None:
    released = walk(client, episode, until="released")
    bedside_check(client, released, patient)
    clock.advance(minutes=2)
    assert inject(client, released).status_code == 201
    clock.advance(days=2)
    current = client.get(f"/api/v1/episodes/{episode['id']}").json()
    assert current["stage"] == "recovery"
    url = f"/api/v1/episodes/{episode['id']}/transitions"
    early = client.post(url, json={"to": "follow_up", "version": current["version"]})
    assert early.status_code == 409
    assert early.json()["guard"] == "recovery_not_over"
    assert "record why follow-up starts early" in early.json()["detail"]
    reasoned = client.post(
        url,
        json={"to": "follow_up", "version": current["version"], "reason": "Seen on day 2, well"},
    )
    assert reasoned.status_code == 200, reasoned.text
    assert reasoned.json()["episode"]["stage"] == "follow_up"
