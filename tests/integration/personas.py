"""The people of the tests: clinics, one account per role, their tokens and sign-ins."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from regenpath.bootstrap import Application
from regenpath.domain.access import Role
from regenpath.services import clinics, identity
from regenpath.services.ports import AccessScope

SETUP = AccessScope(actor="test setup")


def make_clinic(
    application: Application, name: str, time_zone: str = "UTC", phone: str = "+1 312 555 0142"
) -> dict[str, Any]:
    clinic = clinics.create_clinic(
        application.unit_of_work(SETUP),
        application.clock,
        application.new_id,
        name=name,
        time_zone=time_zone,
        phone=phone,
    )
    return {"id": str(clinic.id), "name": clinic.name, "time_zone": clinic.time_zone}


def username_of(clinic: dict[str, Any], role: Role) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", clinic["name"].lower()).strip("-")
    return f"{role.value.replace('_', '-')}.{slug}"


def password_of(username: str) -> str:
    return f"password-of-{username}"


def make_user(application: Application, clinic: dict[str, Any], role: Role) -> str:
    """A user with ``role`` in ``clinic``; returns a fresh API token of theirs."""
    username = username_of(clinic, role)
    identity.create_user(
        application.unit_of_work(SETUP),
        application.clock,
        application.new_id,
        application.hasher,
        username=username,
        display_name=f"{role.label} of {clinic['name']}",
        password=password_of(username),
        memberships={UUID(clinic["id"]): role},
    )
    created = identity.create_token(
        application.unit_of_work(SETUP),
        application.clock,
        application.new_id,
        application.digest,
        username=username,
        name="tests",
    )
    return created.secret


def sign_in(client: TestClient, username: str, password: str | None = None) -> str:
    """Sign in through the form (with its CSRF cookie); returns the session's CSRF token."""
    form = client.get("/login")
    login_csrf = re.search(r'name="login_csrf" value="([^"]+)"', form.text)
    assert login_csrf, form.text
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password or password_of(username),
            "login_csrf": login_csrf.group(1),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    account = client.get("/account")
    token = re.search(r'name="csrf_token" value="([^"]+)"', account.text)
    assert token, account.text
    return token.group(1)


class StaffClient(TestClient):
    """A test client signed in twice as the same person: a session cookie for the pages (its
    CSRF token sent on every request) and a bearer token for the API. ``as_role`` gives the
    Authorization header of the clinic's user with another role."""

    tokens: dict[Role, str]
    csrf: str
    physician_password: str
    clinic: dict[str, str]

    def password_for(self, role: Role | str) -> str:
        return password_of(username_of(self.clinic, Role(role)))

    def as_role(self, role: Role | str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[Role(role)]}"}
