"""The evaluation page: the assessment form (read by the API's schema), live findings, the
verdict on the saved version and the decision."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.pathway import ELIGIBLE_SPINE, episode_now, move


def as_form(assessment: dict[str, Any]) -> dict[str, Any]:
    """An API assessment as the page's form posts it."""
    form: dict[str, Any] = {"kind": [], "months": [], "result": []}
    for name, value in assessment.items():
        if name == "imaging":
            form |= {f"imaging_{k}": str(v) for k, v in value.items()}
        elif name == "conservative_care":
            for care in value:
                for key in ("kind", "months", "result"):
                    form[key].append(str(care[key]))
        elif isinstance(value, list):
            form[name] = ", ".join(value) or "none"
        elif isinstance(value, bool):
            form[name] = "true" if value else "false"
        else:
            form[name] = str(value)
    return form


def test_the_physician_fills_sees_findings_saves_and_accepts(client: TestClient, episode) -> None:
    episode = move(client, episode, "in_evaluation")
    page = client.get(f"/episodes/{episode['id']}/evaluation")
    assert page.status_code == 200
    assert 'option value="spine" selected' in page.text  # from "L4-L5 disc"
    assert "No assessment yet." in page.text

    answers = as_form(ELIGIBLE_SPINE | {"anticoagulants": True})
    live = client.post(
        f"/episodes/{episode['id']}/evaluation/preview",
        data=answers,
        headers={"HX-Request": "true"},
    )
    assert live.status_code == 200 and "<html" not in live.text
    assert 'data-verdict="ineligible"' in live.text and "EX-5" in live.text

    saved = client.post(
        f"/episodes/{episode['id']}/evaluation/assessments",
        data=as_form(ELIGIBLE_SPINE),
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    page = client.get(saved.headers["location"])
    assert "version 1" in page.text and 'data-verdict="eligible"' in page.text
    assert 'name="odi" type="number" value="42"' in page.text  # the saved answers, shown again
    assert 'option value="moderate" selected' in page.text

    now = episode_now(client, episode)
    accepted = client.post(
        f"/episodes/{episode['id']}/evaluation/decision",
        data={"version": str(now["version"]), "decision": "accept"},
        follow_redirects=False,
    )
    assert accepted.status_code == 303, accepted.text
    assert episode_now(client, episode)["stage"] == "eligible"
    chart = client.get(f"/patients/{episode['patient_id']}").text
    assert "Decide eligible" not in chart  # no bare button: only the decision moves it


def test_an_impossible_answer_is_named_and_nothing_is_saved(client: TestClient, episode) -> None:
    episode = move(client, episode, "in_evaluation")
    response = client.post(
        f"/episodes/{episode['id']}/evaluation/assessments",
        data=as_form(
            ELIGIBLE_SPINE
            | {
                "back_pain_nrs": 11,
                "imaging": {"modality": "mri", "taken_on": "2026-01-10", "modic_type": 4},
            }
        ),
    )
    assert response.status_code == 422
    assert 'id="back_pain_nrs-error"' in response.text
    assert 'id="imaging_modic_type-error"' in response.text
    assert 'value="11"' in response.text
    assert client.get(f"/api/v1/episodes/{episode['id']}/assessments").json() == []


def test_an_override_without_a_reason_is_refused_on_the_page(client: TestClient, episode) -> None:
    episode = move(client, episode, "in_evaluation")
    client.post(
        f"/episodes/{episode['id']}/evaluation/assessments",
        data=as_form(ELIGIBLE_SPINE | {"steroid_injections": ["2026-02-01"]}),
    )
    page = client.get(f"/episodes/{episode['id']}/evaluation").text
    assert "Override the SOFT findings" in page and "EX-4" in page
    now = episode_now(client, episode)
    refused = client.post(
        f"/episodes/{episode['id']}/evaluation/decision",
        data={
            "version": str(now["version"]),
            "decision": "override",
            "password": client.physician_password,  # type: ignore[attr-defined]
        },
    )
    assert refused.status_code == 422
    assert "Say why these findings are overridden." in refused.text
    assert episode_now(client, episode)["stage"] == "in_evaluation"


def test_the_evaluation_and_pre_screen_pages_carry_no_inline_script(
    client: TestClient, episode
) -> None:
    episode = move(client, episode, "in_evaluation")
    for path in (f"/episodes/{episode['id']}/evaluation", "/pre-screen"):
        html = client.get(path).text
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], path
        assert not re.search(r"\son[a-z]+=|\sstyle=", html), path
