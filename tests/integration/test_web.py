"""The staff pages, driven as a browser without JavaScript would (plain forms, redirects)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.integration.pathway import walk


def test_the_worklist_counts_every_stage(client: TestClient, episode) -> None:
    page = client.get("/worklist")
    assert page.status_code == 200
    assert 'data-stage="referred"' in page.text
    assert re.search(r'data-stage="referred">\s*<a[^>]*>\s*<span class="count">1</span>', page.text)
    assert "HALE, Avery" in page.text


def test_the_worklist_filters_by_stage_and_answers_htmx_with_a_partial(
    client: TestClient, episode
) -> None:
    partial = client.get("/worklist?stage=consented", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert "Nobody is waiting here." in partial.text


def test_registering_a_patient_through_the_form_opens_the_chart(client: TestClient, clinic) -> None:
    response = client.post(
        "/patients",
        data={
            "clinic_id": clinic["id"],
            "mrn": "RS-777",
            "family_name": "Norcott",
            "given_name": "Sage",
            "birth_date": "1981-02-03",
            "sex": "female",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    chart = client.get(response.headers["location"])
    assert "NORCOTT, Sage" in chart.text
    assert "No care episode yet." in chart.text


def test_a_bad_form_shows_the_field_and_keeps_what_was_typed(client: TestClient, clinic) -> None:
    response = client.post(
        "/patients",
        data={
            "clinic_id": clinic["id"],
            "mrn": "RS-778",
            "family_name": "Norcott",
            "given_name": "Sage",
            "birth_date": "03/02/1981",
            "sex": "female",
        },
    )
    assert response.status_code == 422
    assert 'id="birth_date-error"' in response.text
    assert 'value="Norcott"' in response.text


def test_a_transition_button_moves_the_episode_and_returns_to_the_chart(
    client: TestClient, patient, episode
) -> None:
    response = client.post(
        f"/episodes/{episode['id']}/transitions",
        data={"to": "in_evaluation", "version": "1"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.get(f"/api/v1/episodes/{episode['id']}").json()["stage"] == "in_evaluation"


def test_a_refused_transition_shows_the_guards_message(
    client: TestClient, patient, episode
) -> None:
    released = walk(client, episode, until="released")
    response = client.post(
        f"/episodes/{episode['id']}/transitions",
        data={"to": "administered", "version": str(released["version"])},
        headers={"HX-Request": "true"},
    )
    assert "No bedside verification of this product has been recorded." in response.text
    assert 'class="refusal"' in response.text
    assert client.get(f"/api/v1/episodes/{episode['id']}").json()["stage"] == "released"


def test_patient_search_finds_by_name_and_mrn(client: TestClient, patient) -> None:
    assert "HALE, Avery" in client.get("/patients?q=hale").text
    assert "HALE, Avery" in client.get("/patients?q=RS-000001").text
    assert "HALE, Avery" in client.get("/patients?q=1968-04-12").text
    assert "No patient matches." in client.get("/patients?q=nobody").text


def test_an_unknown_chart_is_a_404_page(client: TestClient) -> None:
    response = client.get("/patients/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert "Not found." in response.text


def test_healthz_and_openapi_answer(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/episodes/{episode_id}/transitions" in schema["paths"]
    assert not any(path.startswith("/patients") for path in schema["paths"])


def test_every_page_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/worklist", "/api/v1/clinics", "/healthz", "/static/regenpath.css"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
    assert client.get("/api/v1/clinics").headers["cache-control"] == "no-store"
    # Plain HTTP: HSTS would be ignored, so it is not sent.
    assert "strict-transport-security" not in client.get("http://testserver/healthz").headers


def test_hsts_is_sent_over_tls(client: TestClient) -> None:
    response = client.get("https://testserver/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_no_page_carries_an_inline_script(client: TestClient, patient, episode) -> None:
    for path in ("/worklist", "/patients", "/patients/new", f"/patients/{patient['id']}"):
        html = client.get(path).text
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
        assert not re.search(r"\son[a-z]+=", html), path
