"""The episode's assessment in versions, the stored verdict, and the physician's decision:
the only way to eligible (DESIGN.md section 2)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from regenpath.domain.access import Role
from tests.integration.pathway import assess, decide, episode_now, move


def evaluating(client: TestClient, episode):
    return move(client, episode, "in_evaluation")


def test_an_edit_is_a_new_version_and_the_decision_cites_the_one_it_used(
    client: TestClient, episode
) -> None:
    episode = evaluating(client, episode)
    assess(client, episode, odi=38)
    assess(client, episode, odi=44)
    versions = client.get(f"/api/v1/episodes/{episode['id']}/assessments").json()
    assert [(v["version"], v["assessment"]["odi"]) for v in versions] == [(2, 44), (1, 38)]
    assert versions[0]["assessment"]["activity"] == "moderate"  # lifestyle, kept as recorded
    evaluated = client.post(
        f"/api/v1/episodes/{episode['id']}/eligibility", headers=client.as_role(Role.PHYSICIAN)
    )
    assert evaluated.status_code == 201, evaluated.text
    assert evaluated.json()["decision"]["verdict"] == "eligible"
    assert evaluated.json()["assessment_version"] == 2
    decided = decide(client, episode)
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert (body["kind"], body["final"], body["assessment_version"]) == ("accepted", "eligible", 2)
    assert body["ruleset_version"] == "orthobiologic-2026.1"
    assert body["episode"]["stage"] == "eligible"
    late = client.post(
        f"/api/v1/episodes/{episode['id']}/assessments",
        json={"region": "spine"},
        headers=client.as_role(Role.PHYSICIAN),
    )
    assert late.status_code == 409 and late.json()["guard"] == "evaluation_closed"


def test_a_bare_move_to_eligible_is_refused(client: TestClient, episode) -> None:
    episode = evaluating(client, episode)
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/transitions",
        json={"to": "eligible", "version": episode["version"]},
    )
    assert response.status_code == 409
    assert response.json()["guard"] == "eligibility_decision_required"


def test_a_soft_finding_is_overridden_only_with_a_reason_and_the_password(
    client: TestClient, episode
) -> None:
    episode = evaluating(client, episode)
    assess(client, episode, anticoagulants=True)
    no_reason = decide(client, episode, decision="override", password=client.physician_password)  # type: ignore[attr-defined]
    assert no_reason.status_code == 422 and no_reason.json()["guard"] == "reason_required"
    wrong = decide(client, episode, decision="override", reason="Plan agreed", password="nope")
    assert wrong.status_code == 422 and wrong.json()["field"] == "password"
    overridden = decide(
        client,
        episode,
        decision="override",
        reason="Anticoagulation paused under the haematologist's plan",
        password=client.physician_password,  # type: ignore[attr-defined]
    )
    assert overridden.status_code == 200, overridden.text
    body = overridden.json()
    assert (body["kind"], body["computed"], body["final"]) == (
        "overridden",
        "ineligible",
        "eligible",
    )
    assert body["episode"]["stage"] == "eligible"


def test_a_hard_exclusion_is_never_overridden_and_accepting_closes_the_episode(
    client: TestClient, episode
) -> None:
    episode = evaluating(client, episode)
    assess(client, episode, active_infection=True)
    refused = decide(
        client,
        episode,
        decision="override",
        reason="x",
        password=client.physician_password,  # type: ignore[attr-defined]
    )
    assert refused.status_code == 409 and refused.json()["guard"] == "hard_exclusion"
    assert episode_now(client, episode)["stage"] == "in_evaluation"
    accepted = decide(client, episode)
    assert accepted.json()["episode"]["stage"] == "ineligible"
    assert accepted.json()["episode"]["closed_at"] is not None


def test_a_verdict_waiting_for_data_cannot_be_accepted(client: TestClient, episode) -> None:
    episode = evaluating(client, episode)
    assess(client, episode, imaging=None, medications=None)
    response = decide(client, episode)
    assert response.status_code == 409
    assert response.json()["guard"] == "assessment_incomplete"
    assert "imaging" in response.json()["detail"]


def test_only_the_physician_records_and_decides(client: TestClient, episode) -> None:
    episode = evaluating(client, episode)
    coordinator = client.as_role(Role.COORDINATOR)  # type: ignore[attr-defined]
    url = f"/api/v1/episodes/{episode['id']}"
    assert (
        client.post(f"{url}/assessments", json={"region": "knee"}, headers=coordinator).status_code
        == 403
    )
    assert client.get(f"{url}/assessments", headers=coordinator).status_code == 200
    assess(client, episode)
    refused = client.post(
        f"{url}/eligibility/decision",
        json={"version": episode["version"], "decision": "accept"},
        headers=coordinator,
    )
    assert refused.status_code == 403


def test_a_bad_assessment_is_422_and_stores_nothing(client: TestClient, episode) -> None:
    episode = evaluating(client, episode)
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/assessments",
        json={"region": "spine", "back_pain_nrs": 11},
        headers=client.as_role(Role.PHYSICIAN),
    )
    assert response.status_code == 422
    assert client.get(f"/api/v1/episodes/{episode['id']}/assessments").json() == []


def test_the_physician_may_decline_with_a_reason_whatever_the_verdict(
    client: TestClient, episode
) -> None:
    episode = evaluating(client, episode)
    bare = client.post(
        f"/api/v1/episodes/{episode['id']}/transitions",
        json={"to": "ineligible", "version": episode["version"], "reason": "Not convinced"},
    )
    assert bare.status_code == 409 and bare.json()["guard"] == "eligibility_decision_required"
    assess(client, episode, imaging=None)  # the verdict still waits for data
    no_reason = decide(client, episode, decision="decline")
    assert no_reason.status_code == 422 and no_reason.json()["guard"] == "reason_required"
    declined = decide(client, episode, decision="decline", reason="Expectations cannot be met")
    assert declined.status_code == 200, declined.text
    body = declined.json()
    assert (body["kind"], body["final"], body["episode"]["stage"]) == (
        "declined",
        "ineligible",
        "ineligible",
    )
