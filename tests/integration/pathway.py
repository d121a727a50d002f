"""Walking an episode along the pathway through the API, for tests that need it further on."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from regenpath.domain.access import STAGE_ROLES, Role
from regenpath.domain.pathway import Stage

AUTOLOGOUS_PATH = (
    ("in_evaluation", {}),
    ("eligible", {}),
    ("consented", {}),
    ("planned", {"cell_source": "autologous"}),
    ("harvested", {}),
    ("processed", {}),
    ("released", {}),
)


def mover(to: str) -> Role:
    """Whose step it is: the physician where allowed, else the first role that may."""
    allowed = STAGE_ROLES[Stage(to)]
    return Role.PHYSICIAN if Role.PHYSICIAN in allowed else sorted(allowed)[0]


def move(client: TestClient, episode: dict[str, Any], to: str, **extra: Any) -> dict[str, Any]:
    """Move the episode as the person whose step it is (STAGE_ROLES); closing is signed."""
    if to == "completed":
        return close(client, episode, **extra)
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/transitions",
        json={"to": to, "version": episode["version"], **extra},
        headers=client.as_role(mover(to)),  # type: ignore[attr-defined]
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


def close(client: TestClient, episode: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Close the episode under the physician's signature (their password re-entered)."""
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/close",
        json={"version": episode["version"], "password": client.physician_password} | extra,  # type: ignore[attr-defined]
        headers=client.as_role(Role.PHYSICIAN),  # type: ignore[attr-defined]
    )
    assert response.status_code == 200, response.text
    closed: dict[str, Any] = response.json()["episode"]
    return closed
