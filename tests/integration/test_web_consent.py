"""The plan form and the consent page, as plain forms."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.integration.pathway import episode_now, move

PLAN_FORM = {
    "product_type": "bmac",
    "source": "autologous",
    "targets": "L4-L5 disc",
    "sessions": "1",
    "guidance": "fluoroscopy",
    "processing": ["centrifugation", "concentration"],
    "price": "4750.00",
    "currency": "USD",
    "payment": "self_pay",
    "treatment_country": "US",
}


def test_the_plan_then_the_patient_signs_on_the_tablet(client: TestClient, episode) -> None:
    for stage in ("in_evaluation", "eligible"):
        episode = move(client, episode, stage)
    saved = client.post(f"/episodes/{episode['id']}/plan", data=PLAN_FORM, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    page = client.get(saved.headers["location"]).text
    assert "361 HCT/P" in page and "4,750.00 USD" in page
    document_hash = re.search(r'name="document_hash" value="([0-9a-f]{64})"', page).group(1)
    form = {
        "version": str(episode_now(client, episode)["version"]),
        "document_hash": document_hash,
        "signed_name": "Someone Else",
        "agreed": "true",
    }
    wrong = client.post(f"/episodes/{episode['id']}/consent/sign", data=form)
    assert wrong.status_code == 422 and 'id="signed_name-error"' in wrong.text
    unticked = client.post(
        f"/episodes/{episode['id']}/consent/sign",
        data={k: v for k, v in form.items() if k != "agreed"} | {"signed_name": "Avery Hale"},
    )
    assert unticked.status_code == 422 and 'id="agreed-error"' in unticked.text
    signed = client.post(
        f"/episodes/{episode['id']}/consent/sign",
        data=form | {"signed_name": "Avery Hale"},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    assert episode_now(client, episode)["stage"] == "consented"
    copy = client.get(f"/episodes/{episode['id']}/consent/print").text
    assert "Signed electronically by <strong>Avery Hale</strong>" in copy


def test_a_bad_plan_keeps_the_answers_and_names_the_field(client: TestClient, episode) -> None:
    for stage in ("in_evaluation", "eligible"):
        episode = move(client, episode, stage)
    response = client.post(
        f"/episodes/{episode['id']}/plan", data=PLAN_FORM | {"currency": "dollars"}
    )
    assert response.status_code == 422
    assert 'id="currency-error"' in response.text and 'value="4750.00"' in response.text
    assert 'value="centrifugation" checked' in response.text
