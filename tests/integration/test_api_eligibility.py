"""POST /api/v1/eligibility/evaluate: stateless, open to anyone, nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from regenpath.adapters.db.tables import AuditEventRow
from regenpath.bootstrap import Application

KNEE: dict[str, Any] = {
    "region": "knee",
    "condition_code": "m17.11",
    "age_years": 58,
    "sex": "male",
    "pain_nrs": 6,
    "conservative_care": [{"kind": "physiotherapy", "months": 4, "result": "no_relief"}],
    "imaging": {"modality": "xray", "taken_on": "2026-01-20", "kellgren_lawrence_grade": 3},
    "active_infection": False,
    "active_malignancy": False,
    "immunosuppressants": False,
    "steroid_injections": [],
    "intra_articular_injections": ["2026-01-10"],
    "severe_anaemia": False,
    "bleeding_disorder": False,
    "anticoagulants": False,
    "diabetes": "controlled",
    "uncontrolled_hypertension": False,
    "serious_systemic_disease": False,
    "height_cm": 178,
    "weight_kg": 84,
    "osteoporosis": False,
    "prior_surgery_at_index": False,
    "prior_cell_therapy": False,
    "substance_abuse": False,
    "severe_depression": False,
    "hiv_or_chronic_hepatitis": False,
    "septic_arthritis": [],
    "medications": ["7258"],
    "smoking": "current",
}


@pytest.fixture
def anonymous(client: TestClient) -> TestClient:
    client.headers.pop("Authorization")
    client.cookies.clear()
    return client


def test_an_assessment_gets_every_finding_with_its_rule_and_source(
    anonymous: TestClient, application: Application
) -> None:
    with application.engine.connect() as connection:
        before = connection.scalar(select(func.count()).select_from(AuditEventRow))
    response = anonymous.post("/api/v1/eligibility/evaluate", json=KNEE)
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["verdict"] == "ineligible" and decision["overridable"] is True
    findings = {f["rule_id"]: f for f in decision["findings"]}
    assert sorted(findings) == ["EX-10", "EX-11", "EX-4"]  # the injection 7 weeks ago
    assert findings["EX-4"]["kind"] == "soft"
    assert findings["EX-4"]["values"] == {"recent_injections": ["2026-01-10"]}
    assert findings["EX-10"]["kind"] == "task" and "7258" in findings["EX-10"]["message"]
    assert decision["ruleset_version"] == "orthobiologic-2026.1"
    with application.engine.connect() as connection:
        after = connection.scalar(select(func.count()).select_from(AuditEventRow))
    assert after == before  # nothing read or stored: nothing to audit


def test_what_is_not_known_is_named_and_the_decision_waits(anonymous: TestClient) -> None:
    response = anonymous.post(
        "/api/v1/eligibility/evaluate", json={"region": "spine", "age_years": 44}
    )
    decision = response.json()
    assert decision["verdict"] == "needs_review"
    assert {"back_pain_nrs", "odi", "imaging", "medications"} <= set(decision["missing"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pain_nrs": 11}, "pain_nrs"),
        ({"symptom_onset": "2027-01-01"}, "symptom_onset"),
        ({"condition_code": "back pain"}, "condition_code"),
        ({"height_cm": 240, "weight_kg": 21}, "weight_kg"),
        ({"height_cm": 20}, "height_cm"),
        (
            {"imaging": {"modality": "mri", "taken_on": "2026-01-01", "pfirrmann_grade": 9}},
            "imaging.pfirrmann_grade",
        ),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    anonymous: TestClient, change: dict[str, Any], field: str
) -> None:
    response = anonymous.post("/api/v1/eligibility/evaluate", json=KNEE | change)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    named = [e["field"] for e in problem.get("errors", [])] + [problem.get("field")]
    assert field in named
