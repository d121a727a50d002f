"""The public pre-screen: anyone may ask, nothing is stored, and it never says "you qualify"."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from regenpath.adapters.db.tables import AuditEventRow
from regenpath.bootstrap import Application

ANSWERS = {
    "region": "knee",
    "pain_nrs": "6",
    "pain_months": "18",
    "age_years": "58",
    "sex": "male",
    "physio_months": "4",
    "physio_result": "no_relief",
    "infection": "no",
    "cancer": "never",
    "immunosuppressants": "no",
    "steroid_injection_3_months": "no",
    "blood_thinners": "no",
    "bleeding_disorder": "no",
    "severe_anaemia": "no",
    "diabetes": "none",
    "prior_cell_therapy": "no",
    "height_cm": "180",
    "weight_kg": "82",
    "smoking": "never",
}


@pytest.fixture
def visitor(client: TestClient) -> TestClient:
    client.headers.pop("Authorization")
    client.headers.pop("X-CSRF-Token")
    client.cookies.clear()
    return client


def words_of(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html).lower()


def test_anyone_may_ask_and_nothing_is_kept(visitor: TestClient, application: Application) -> None:
    assert visitor.get("/pre-screen").status_code == 200
    with application.engine.connect() as connection:
        before = connection.scalar(select(func.count()).select_from(AuditEventRow))
    response = visitor.post("/pre-screen", data=ANSWERS)
    assert response.status_code == 200
    text = words_of(response.text)
    assert "worth discussing with a qualified physician" in text
    assert "an mri or x-ray read by a specialist" in text  # what only a clinic can assess
    assert "eligible" not in text and "qualif" not in text.replace("qualified physician", "")
    with application.engine.connect() as connection:
        after = connection.scalar(select(func.count()).select_from(AuditEventRow))
    assert after == before


def test_a_hard_reason_is_said_plainly(visitor: TestClient) -> None:
    response = visitor.post("/pre-screen", data=ANSWERS | {"cancer": "within_5_years"})
    text = words_of(response.text)
    assert "a reason you would likely not be treated" in text
    assert "cancer treatment in the last 5 years" in text
    assert "eligible" not in text


def test_a_soft_point_is_for_the_physician_to_weigh(visitor: TestClient) -> None:
    response = visitor.post("/pre-screen", data=ANSWERS | {"blood_thinners": "yes"})
    assert response.status_code == 200, response.text[-3000:]
    text = words_of(response.text)
    assert "worth discussing" in text and "things a physician would look at closely" in text
    assert "blood thinners" in text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pain_nrs": "11"}, "pain_nrs"),
        ({"age_years": "abc"}, "age_years"),
        ({"region": "elbow"}, "region"),
    ],
)
def test_an_impossible_answer_is_named(
    visitor: TestClient, change: dict[str, str], field: str
) -> None:
    response = visitor.post("/pre-screen", data=ANSWERS | change)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
