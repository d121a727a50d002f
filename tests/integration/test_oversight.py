"""The quality officer's audit search and the registry analyst's de-identified view."""

from __future__ import annotations

from fastapi.testclient import TestClient

from regenpath.bootstrap import Application
from regenpath.domain.access import Role
from regenpath.entrypoints.app import create_app
from tests.integration.personas import sign_in, username_of


def test_the_quality_officer_searches_the_trail_and_the_search_is_recorded(
    client: TestClient, patient
) -> None:
    client.get(f"/api/v1/patients/{patient['id']}")
    officer = client.as_role(Role.QUALITY_OFFICER)  # type: ignore[attr-defined]
    found = client.get(
        "/api/v1/audit-events",
        params={"resource_id": patient["id"], "action": "read"},
        headers=officer,
    ).json()["items"]
    assert [e["actor"] for e in found] == ["physician.riverside-spine"]
    newest = client.get("/api/v1/audit-events", params={"limit": 1}, headers=officer).json()
    assert newest["items"][0]["resource_type"] == "audit_trail"  # the search above
    assert newest["next_cursor"]


def test_failed_sign_ins_show_on_the_audit_page(
    application: Application, client: TestClient, clinic
) -> None:
    browser = TestClient(create_app(application), base_url="https://testserver")
    form = browser.get("/login").text
    token = form.split('name="login_csrf" value="')[1].split('"')[0]
    browser.post(
        "/login",
        data={"username": "coordinator.riverside-spine", "password": "x" * 12, "login_csrf": token},
    )
    officer = TestClient(create_app(application), base_url="https://testserver")
    sign_in(officer, username_of(clinic, Role.QUALITY_OFFICER))
    page = officer.get("/audit", params={"outcome": "failed", "action": "login"})
    assert page.status_code == 200
    assert "coordinator.riverside-spine" in page.text


def test_the_registry_analyst_sees_counts_and_never_a_patient(
    application: Application, client: TestClient, clinic, patient
) -> None:
    analyst = client.as_role(Role.REGISTRY_ANALYST)  # type: ignore[attr-defined]
    assert client.get("/api/v1/patients", headers=analyst).status_code == 403
    counts = client.get("/api/v1/worklist", headers=analyst)
    assert counts.status_code == 200
    browser = TestClient(create_app(application), base_url="https://testserver")
    sign_in(browser, username_of(clinic, Role.REGISTRY_ANALYST))
    report = browser.get("/reports")
    assert report.status_code == 200 and "Episodes by stage" in report.text
    assert patient["family_name"].upper() not in report.text.upper()
    assert browser.get("/patients").status_code == 403
