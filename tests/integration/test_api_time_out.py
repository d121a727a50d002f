"""Issue 19's scenario through the API: a right knee consented for ONE autologous bone-marrow
session under ultrasound. A second cycle with donor cells is refused at the cycle plan
(CON-1), and an injection recorded as "fluoroscopy, posterolateral intradiscal, L4-L5 disc
(left)" is refused at the needle (SITE-1), naming each mismatch; nothing is written but the
near-miss deviation."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from regenpath.adapters.db.lab_tables import DeviationRow, InjectionRecordRow
from regenpath.bootstrap import Application
from regenpath.domain.access import Role
from regenpath.domain.procedures import TimeOutItem
from tests.integration.pathway import (
    ELIGIBLE_SPINE,
    bedside_check,
    consent_to,
    decide,
    episode_now,
    harvest,
    inject,
    move,
    process,
    release,
)

SPINE_ONLY = (
    "back_pain_nrs",
    "leg_pain_nrs",
    "odi",
    "facet_ruled_out",
    "si_joint_ruled_out",
    "spondylolisthesis_grade",
    "prior_intradiscal_injection",
)
ELIGIBLE_KNEE: dict[str, Any] = {
    **{k: v for k, v in ELIGIBLE_SPINE.items() if k not in SPINE_ONLY},
    "region": "knee",
    "condition_code": "M17.11",
    "pain_nrs": 6,
    "intra_articular_injections": [],
    "imaging": {"modality": "xray", "taken_on": "2026-01-20", "kellgren_lawrence_grade": 2},
}
KNEE_PLAN = {"targets": ["Right knee"], "guidance": "ultrasound", "sessions": 1}
RIGHT_KNEE = {
    "guidance": "ultrasound",
    "approach": "knee_superolateral",
    "sites": [{"target": "Right knee", "laterality": "right", "volume_ml": 4}],
}
WRONG_SITE = {
    "guidance": "fluoroscopy",
    "approach": "posterolateral_intradiscal",
    "sites": [{"target": "L4-L5 disc", "laterality": "left", "volume_ml": 2}],
}


def right_knee_released(client: TestClient, patient: dict[str, Any]) -> dict[str, Any]:
    episode = client.post(
        "/api/v1/episodes",
        json={
            "patient_id": patient["id"],
            "condition_code": "M17.11",
            "condition_text": "Primary osteoarthritis, right knee",
            "target_site": "Right knee",
            "laterality": "right",
        },
    ).json()
    episode = move(client, episode, "in_evaluation")
    recorded = client.post(
        f"/api/v1/episodes/{episode['id']}/assessments",
        json=ELIGIBLE_KNEE,
        headers=client.as_role(Role.PHYSICIAN),  # type: ignore[attr-defined]
    )
    assert recorded.status_code == 201, recorded.text
    decided = decide(client, episode)
    assert decided.status_code == 200, decided.text
    episode = consent_to(client, decided.json()["episode"], **KNEE_PLAN)
    episode = move(client, episode, "planned", cell_source="autologous")
    product = harvest(client, episode)
    process(client, product["id"])
    released = release(client, product["id"])
    assert released.status_code == 200, released.text
    return episode_now(client, episode)


def counts(application: Application) -> tuple[int, int]:
    with application.session_factory() as session:
        injections = session.scalar(select(func.count()).select_from(InjectionRecordRow))
        stops = session.scalar(
            select(func.count())
            .select_from(DeviationRow)
            .where(DeviationRow.kind == "time_out_stop")
        )
    return int(injections or 0), int(stops or 0)


def test_SITE_1_the_wrong_site_side_and_approach_are_a_hard_stop_kept_as_a_near_miss(
    client: TestClient, application: Application, patient: dict[str, Any], clock: Any
) -> None:
    episode = right_knee_released(client, patient)
    bedside_check(client, episode, patient)
    clock.advance(minutes=2)
    stopped = inject(client, episode, **WRONG_SITE)
    assert stopped.status_code == 409, stopped.text
    problem = stopped.json()
    assert [f["guard"] for f in problem["guards"]] == [
        "wrong_site",
        "wrong_side",
        "wrong_approach",
        "wrong_guidance",
    ]
    assert episode_now(client, episode)["stage"] == "released"
    assert counts(application) == (0, 1)  # nothing injected; the near miss kept
    untimed = inject(client, episode, **RIGHT_KNEE, time_out=["patient", "site"])
    assert untimed.status_code == 409
    assert untimed.json()["guard"] == "time_out_incomplete"
    assert counts(application) == (0, 1)  # a missing tick is not a near miss
    done = inject(client, episode, **RIGHT_KNEE)
    assert done.status_code == 201, done.text
    assert counts(application) == (1, 1)
    with application.session_factory() as session:
        held = session.scalars(select(InjectionRecordRow.time_out)).one()
    assert held is not None and sorted(held["confirmed"]) == sorted(TimeOutItem)
    assert held["confirmed_by"]


def test_CON_1_a_second_session_with_donor_cells_is_refused_at_the_cycle_plan(
    client: TestClient, application: Application, patient: dict[str, Any], clock: Any
) -> None:
    episode = right_knee_released(client, patient)
    bedside_check(client, episode, patient)
    clock.advance(minutes=2)
    assert inject(client, episode, **RIGHT_KNEE).status_code == 201
    for to in ("recovery", "follow_up"):
        current = episode_now(client, episode)
        if current["stage"] != to:
            move(client, current, to)
    current = episode_now(client, episode)
    for source in ("allogeneic", "autologous"):
        refused = client.post(
            f"/api/v1/episodes/{episode['id']}/transitions",
            json={"to": "planned", "version": current["version"], "cell_source": source},
            headers=client.as_role(Role.PHYSICIAN),  # type: ignore[attr-defined]
        )
        assert refused.status_code == 409, refused.text
        guards = [f["guard"] for f in refused.json()["guards"]]
        assert "consent_scope_sessions" in guards
    assert len(episode_now(client, episode)["cycles"]) == 1
    # A new plan version for a second session voids the consent until the patient signs it.
    again = consent_to(client, episode_now(client, episode), **KNEE_PLAN | {"sessions": 2})
    planned = move(client, again, "planned", cell_source="autologous")
    assert len(planned["cycles"]) == 2
