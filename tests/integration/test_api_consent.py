"""The treatment plan, its regulatory classification, and the consent signed on its document."""

from __future__ import annotations

from fastapi.testclient import TestClient

from regenpath.domain.access import Role
from tests.integration.pathway import HARVEST, PLAN, at, episode_now, move, plan, sign_consent


def eligible(client: TestClient, episode):
    for stage in ("in_evaluation", "eligible"):
        episode = move(client, episode, stage)
    return episode


def test_the_plan_is_classified_and_a_change_voids_the_signed_consent(
    client: TestClient, episode
) -> None:
    episode = eligible(client, episode)
    first = plan(client, episode)
    assert first["regulatory_pathway"] == "hctp_361" and first["version"] == 1
    view = client.get(f"/api/v1/episodes/{episode['id']}/consent").json()
    assert [title for title, _ in view["document"]["sections"]][:3] == [
        "What will be done",
        "The cells",
        "Regulatory status",
    ]
    signed = sign_consent(client, episode)
    assert signed.status_code == 201, signed.text
    episode = episode_now(client, episode)
    assert episode["stage"] == "consented" and episode["consented_at"] is not None
    episode = move(client, episode, "planned", cell_source="autologous")

    second = plan(client, episode, same_surgical_procedure=True)
    assert second["regulatory_pathway"] == "needs_regulatory_review"
    episode = episode_now(client, episode)
    assert episode["consented_at"] is None
    assert client.get(f"/api/v1/episodes/{episode['id']}/consent").json()["current"] is None

    def harvest():
        now = episode_now(client, episode)
        return client.post(
            f"/api/v1/episodes/{episode['id']}/harvest",
            json=HARVEST | {"version": now["version"], "started_at": at(-40), "ended_at": at()},
            headers=client.as_role(Role.PHYSICIAN),  # type: ignore[attr-defined]
        )

    refused = harvest()
    assert refused.status_code == 409 and refused.json()["guard"] == "consent_required"
    again = sign_consent(client, episode)
    assert again.status_code == 201 and again.json()["plan_version"] == 2
    assert episode_now(client, episode)["consented_at"] is not None
    assert harvest().status_code == 201


def test_a_351_plan_needs_an_ind_or_bla_before_consent(client: TestClient, episode) -> None:
    episode = eligible(client, episode)
    cord = {"source": "allogeneic", "product_type": "umbilical_cord_msc", "processing": ["thawing"]}
    made = plan(client, episode, **cord)
    assert made["regulatory_pathway"] == "biologic_351"
    refused = sign_consent(client, episode)
    assert refused.status_code == 409 and refused.json()["guard"] == "ind_or_bla_required"
    plan(client, episode, **cord, ind_number="IND 027311")
    assert sign_consent(client, episode).status_code == 201


def test_a_signature_binds_to_the_document_read_by_the_patient(client: TestClient, episode) -> None:
    episode = eligible(client, episode)
    plan(client, episode)
    stale = sign_consent(client, episode, document_hash="0" * 64)
    assert stale.status_code == 409 and stale.json()["guard"] == "consent_document_changed"
    stranger = sign_consent(client, episode, signed_name="Someone Else")
    assert stranger.status_code == 422 and stranger.json()["field"] == "signed_name"
    assert episode_now(client, episode)["stage"] == "eligible"


def test_a_bad_plan_is_422_naming_the_field(client: TestClient, episode) -> None:
    episode = eligible(client, episode)
    for change, field in (
        ({"currency": "usd"}, "currency"),
        ({"sessions": 0}, "sessions"),
        ({"abroad": True, "treatment_country": "MX"}, "home_clinician"),
        ({"product_type": "umbilical_cord_msc"}, "product_type"),
    ):
        response = client.post(
            f"/api/v1/episodes/{episode['id']}/plans",
            json=PLAN | change,
        )
        assert response.status_code == 422, (change, response.text)
        problem = response.json()
        assert field in [e["field"] for e in problem.get("errors", [])] + [problem.get("field")]
    assert client.get(f"/api/v1/episodes/{episode['id']}/plans").json() == []


def test_a_withdrawal_is_recorded_with_its_reason(client: TestClient, episode) -> None:
    episode = eligible(client, episode)
    plan(client, episode)
    signed = sign_consent(client, episode).json()
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/consents/{signed['id']}/withdraw",
        json={"reason": "Wants to think it over"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["withdrawal_reason"] == "Wants to think it over"
    assert episode_now(client, episode)["consented_at"] is None
