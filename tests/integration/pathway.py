"""Walking an episode along the pathway through the API, for tests that need it further on."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

AUTOLOGOUS_PATH = (
    ("in_evaluation", {}),
    ("eligible", {}),
    ("consented", {}),
    ("planned", {"cell_source": "autologous"}),
    ("harvested", {}),
    ("processed", {}),
    ("released", {}),
)


def move(client: TestClient, episode: dict[str, Any], to: str, **extra: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/transitions",
        json={"to": to, "version": episode["version"], **extra},
    )
    assert response.status_code == 200, response.text
    moved: dict[str, Any] = response.json()["episode"]
    return moved


def walk(client: TestClient, episode: dict[str, Any], until: str) -> dict[str, Any]:
    for stage, extra in AUTOLOGOUS_PATH:
        episode = move(client, episode, stage, **extra)
        if stage == until:
            return episode
    raise AssertionError(f"{until} is not on the autologous path up to release")


def bedside_check(
    client: TestClient, episode: dict[str, Any], patient: dict[str, Any], **overrides: Any
) -> dict[str, Any]:
    body = {
        "scanned_product_id": episode["cycles"][-1]["product_id"],
        "wristband_mrn": patient["mrn"],
        "wristband_birth_date": patient["birth_date"],
        "method": "barcode_scan",
        "verified_by": "Nurse Okafor",
    } | overrides
    response = client.post(f"/api/v1/episodes/{episode['id']}/bedside-verifications", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result
