"""Signing in, throttling, sessions with CSRF, API tokens, and the secret key."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from regenpath.adapters.db.tables import ApiTokenRow, AuditEventRow, UserRow
from regenpath.bootstrap import Application
from regenpath.config import Settings
from regenpath.domain.access import Role
from regenpath.entrypoints.app import create_app
from tests.integration.personas import make_clinic, password_of, sign_in, username_of
from tests.integration.test_cli import regenpath


class CountingHasher:
    """The application's hasher, counting the passwords it checks."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.decoy_hash = inner.decoy_hash
        self.checks = 0

    def hash(self, password: str) -> str:
        return self.inner.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self.checks += 1
        return self.inner.verify(password_hash, password)


def login_form(client: TestClient) -> str:
    found = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/login").text)
    assert found
    return found.group(1)


def attempt(client: TestClient, username: str, password: str) -> int:
    response = client.post(
        "/login",
        data={"username": username, "password": password, "login_csrf": login_form(client)},
        follow_redirects=False,
    )
    return response.status_code


@pytest.fixture
def browser(application: Application, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(create_app(application), base_url="https://testserver")


def trail(application: Application) -> list[AuditEventRow]:
    with application.session_factory() as session:
        return list(session.scalars(select(AuditEventRow).order_by(AuditEventRow.sequence)))


def test_the_sixth_wrong_password_within_a_minute_is_refused_unchecked_and_audited(
    application: Application, browser: TestClient, clinic, clock
) -> None:
    nurse = username_of(clinic, Role.NURSE)
    counting = CountingHasher(application.hasher)
    application.hasher = counting
    for _ in range(5):
        clock.advance(seconds=5)
        assert attempt(browser, nurse, "not-the-password") == 401
    assert counting.checks == 5
    clock.advance(seconds=5)
    assert attempt(browser, nurse, password_of(nurse)) == 429  # even the right one, unchecked
    assert counting.checks == 5
    last = trail(application)[-1]
    assert (last.action, last.outcome, last.resource_id) == ("login", "denied", nurse)
    assert "locked until" in (last.detail or "")
    clock.advance(minutes=16)
    assert attempt(browser, nurse, password_of(nurse)) == 303


def test_wrong_passwords_spread_out_do_not_lock(browser: TestClient, clinic, clock) -> None:
    nurse = username_of(clinic, Role.NURSE)
    for _ in range(6):
        clock.advance(seconds=20)
        assert attempt(browser, nurse, "not-the-password") == 401
    assert attempt(browser, nurse, password_of(nurse)) == 303


def test_an_unknown_user_name_answers_like_a_wrong_password(browser: TestClient) -> None:
    assert attempt(browser, "nobody.here", "whatever-password") == 401


def test_the_session_cookie_is_secure_httponly_and_samesite(browser: TestClient, clinic) -> None:
    username = username_of(clinic, Role.COORDINATOR)
    response = browser.post(
        "/login",
        data={
            "username": username,
            "password": password_of(username),
            "login_csrf": login_form(browser),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/worklist"
    cookie = next(h for h in response.headers.get_list("set-cookie") if "regenpath_session" in h)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_sign_in_never_redirects_to_another_site(browser: TestClient, clinic) -> None:
    username = username_of(clinic, Role.COORDINATOR)
    response = browser.post(
        "/login",
        data={
            "username": username,
            "password": password_of(username),
            "login_csrf": login_form(browser),
            "next": "//evil.example/steal",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/worklist"


def test_a_sign_in_form_without_its_csrf_cookie_is_refused(browser: TestClient, clinic) -> None:
    username = username_of(clinic, Role.COORDINATOR)
    response = browser.post(
        "/login",
        data={"username": username, "password": password_of(username), "login_csrf": "forged"},
    )
    assert response.status_code == 403


def test_a_state_changing_page_request_needs_the_sessions_csrf_token(
    browser: TestClient, clinic, patient, episode
) -> None:
    sign_in(browser, username_of(clinic, Role.PHYSICIAN))
    form = {"to": "in_evaluation", "version": "1"}
    url = f"/episodes/{episode['id']}/transitions"
    assert browser.post(url, data=form).status_code == 403
    assert browser.post(url, data=form | {"csrf_token": "forged"}).status_code == 403
    assert browser.post(url, headers={"X-CSRF-Token": "forged"}, data=form).status_code == 403
    assert browser.get(f"/api/v1/episodes/{episode['id']}").status_code == 401  # no cookie auth


def test_signing_out_ends_the_session(browser: TestClient, clinic) -> None:
    csrf = sign_in(browser, username_of(clinic, Role.PHYSICIAN))
    assert browser.get("/worklist").status_code == 200
    browser.post("/logout", data={"csrf_token": csrf})
    response = browser.get("/worklist", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fworklist"


def test_an_htmx_request_without_a_session_is_sent_to_sign_in(browser: TestClient) -> None:
    response = browser.get("/worklist", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_api_tokens_are_stored_hashed_expire_and_can_be_revoked(
    client: TestClient, application: Application, clock
) -> None:
    created = client.post("/api/v1/tokens", json={"name": "export script", "days": 2})
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("rp_")
    with application.session_factory() as session:
        digests = list(session.scalars(select(ApiTokenRow.digest)))
    assert secret not in digests and all(len(d) == 64 for d in digests)
    listed = {t["id"]: t for t in client.get("/api/v1/tokens").json()}
    mine = listed[created.json()["id"]]
    assert "token" not in mine and mine["name"] == "export script"
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/clinics", headers=bearer).status_code == 200
    clock.advance(days=3)
    expired = client.get("/api/v1/clinics", headers=bearer)
    assert expired.status_code == 401
    assert expired.headers["www-authenticate"].startswith("Bearer")
    token_id = created.json()["id"]
    assert client.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    assert client.delete(f"/api/v1/tokens/{token_id}").status_code == 404


def test_a_revoked_token_is_refused_at_once(client: TestClient) -> None:
    created = client.post("/api/v1/tokens", json={"name": "short-lived"}).json()
    bearer = {"Authorization": f"Bearer {created['token']}"}
    client.delete(f"/api/v1/tokens/{created['id']}")
    assert client.get("/api/v1/clinics", headers=bearer).status_code == 401


def test_a_token_made_on_the_account_page_is_shown_once_and_works(client: TestClient) -> None:
    page = client.post("/account/tokens", data={"name": "from the web", "days": "30"})
    assert page.status_code == 201
    secret = re.search(r'<code class="secret">(rp_[^<]+)</code>', page.text)
    assert secret
    bearer = {"Authorization": f"Bearer {secret.group(1)}"}
    assert client.get("/api/v1/clinics", headers=bearer).status_code == 200
    assert secret.group(1) not in client.get("/account").text


def test_passwords_are_stored_as_argon2id_hashes(application: Application, staff) -> None:
    with application.session_factory() as session:
        hashes = list(session.scalars(select(UserRow.password_hash)))
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


def test_regenpath_token_create_prints_a_working_token(
    application: Application, database_url: str, clinic, staff, client: TestClient
) -> None:
    result = regenpath(
        "token", "create", username_of(clinic, Role.NURSE), "--days", "7", database=database_url
    )
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip()
    assert secret.startswith("rp_") and "\n" not in secret
    nurse = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/worklist", headers=nurse).status_code == 200


def test_token_create_for_an_unknown_user_is_one_line(database_url: str) -> None:
    result = regenpath("token", "create", "nobody.at-all", database=database_url)
    assert result.returncode == 1
    assert result.stderr.startswith("error: no user nobody.at-all")


def test_production_refuses_the_default_secret_key() -> None:
    with pytest.raises(ValidationError, match="REGENPATH_SECRET_KEY"):
        Settings(environment="production")
    assert Settings(environment="production", secret_key="k" * 40).secret_key


def test_serve_in_production_with_the_default_key_is_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = regenpath("serve", database=f"sqlite:///{tmp_path / 'x.db'}", environment="production")
    assert result.returncode == 1
    assert result.stderr.startswith("error: configuration:")
    assert "REGENPATH_SECRET_KEY" in result.stderr


def test_a_user_with_roles_in_two_clinics_acts_in_each_by_that_clinics_role(
    application: Application, database_url: str, clinic, patient, client: TestClient
) -> None:
    other = make_clinic(application, "Harbour Orthobiologics")
    nurse = username_of(clinic, Role.NURSE)
    result = regenpath(
        "user", "grant", nurse, "--clinic", other["name"], "--role", "coordinator",
        database=database_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    as_nurse = client.as_role(Role.NURSE)  # type: ignore[attr-defined]
    assert {c["name"] for c in client.get("/api/v1/clinics", headers=as_nurse).json()} == {
        clinic["name"],
        other["name"],
    }
    new_patient = {
        "mrn": "HB-1",
        "family_name": "Two",
        "given_name": "Clinics",
        "birth_date": "1970-01-01",
        "sex": "male",
    }
    at_harbour = client.post(
        "/api/v1/patients", json=new_patient | {"clinic_id": other["id"]}, headers=as_nurse
    )
    assert at_harbour.status_code == 201  # a coordinator there
    at_riverside = client.post(
        "/api/v1/patients", json=new_patient | {"clinic_id": clinic["id"]}, headers=as_nurse
    )
    assert at_riverside.status_code == 422  # a nurse here: no such clinic to register in
