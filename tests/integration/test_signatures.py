"""Closing an episode under an electronic signature (21 CFR Part 11 style)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from regenpath.domain.access import Role
from tests.integration.pathway import bedside_check, inject, move, walk


def in_follow_up(client: TestClient, episode, patient, clock) -> dict:  # type: ignore[no-untyped-def]
    released = walk(client, episode, until="released")
    clock.advance(hours=1)
    bedside_check(client, released, patient)
    current = inject(client, released).json()["episode"]
    return move(client, current, "follow_up")


def test_closing_needs_a_signature_not_a_plain_transition(
    client: TestClient, episode, patient, clock
) -> None:
    current = in_follow_up(client, episode, patient, clock)
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/transitions",
        json={"to": "completed", "version": current["version"]},
    )
    assert response.status_code == 409
    assert response.json()["guard"] == "signature_required"


def test_a_wrong_password_signs_nothing_and_closes_nothing(
    client: TestClient, episode, patient, clock
) -> None:
    current = in_follow_up(client, episode, patient, clock)
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/close",
        json={"version": current["version"], "password": "not-my-password"},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "password"
    assert client.get(f"/api/v1/episodes/{episode['id']}").json()["stage"] == "follow_up"
    assert client.get(f"/api/v1/episodes/{episode['id']}/signatures").json() == []


def test_only_a_physician_may_sign_the_closing(
    client: TestClient, episode, patient, clock, clinic
) -> None:
    current = in_follow_up(client, episode, patient, clock)
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/close",
        json={"version": current["version"], "password": "password-of-nurse.riverside-spine"},
        headers=client.as_role(Role.NURSE),  # type: ignore[attr-defined]
    )
    assert response.status_code == 403


def test_the_signature_records_who_when_and_what_and_breaks_when_the_record_changes(
    client: TestClient, episode, patient, clock
) -> None:
    current = in_follow_up(client, episode, patient, clock)
    closed = move(client, current, "completed", meaning="approval", statement="24-month visit done")
    assert closed["stage"] == "completed" and closed["closed_at"] is not None
    (signature,) = client.get(f"/api/v1/episodes/{episode['id']}/signatures").json()
    assert signature["printed_name"] == "Physician of Riverside Spine"
    assert signature["meaning"] == "approval"
    assert signature["statement"] == "24-month visit done"
    assert len(signature["content_hash"]) == 64
    assert signature["status"] == "valid"

    fixed = client.patch(
        f"/api/v1/patients/{patient['id']}", json={"version": 1, "family_name": "Hale-Morrow"}
    )
    assert fixed.status_code == 200
    (after,) = client.get(f"/api/v1/episodes/{episode['id']}/signatures").json()
    assert after["status"] == "invalidated"
    chart = client.get(f"/patients/{patient['id']}").text
    assert "INVALIDATED: the record changed after signing" in chart


def test_the_chart_closes_an_episode_with_the_signature_form(
    client: TestClient, episode, patient, clock
) -> None:
    current = in_follow_up(client, episode, patient, clock)
    chart = client.get(f"/patients/{patient['id']}").text
    assert "Close the episode (electronic signature)" in chart
    wrong = client.post(
        f"/episodes/{episode['id']}/close",
        data={"version": current["version"], "password": "nope", "meaning": "responsibility"},
        headers={"HX-Request": "true"},
    )
    assert "The password is not right" in wrong.text
    signed = client.post(
        f"/episodes/{episode['id']}/close",
        data={
            "version": current["version"],
            "password": client.physician_password,  # type: ignore[attr-defined]
            "meaning": "responsibility",
        },
        headers={"HX-Request": "true"},
    )
    assert "Episode closed and signed." in signed.text
    assert "Signed by <strong>Physician of Riverside Spine</strong>" in signed.text
