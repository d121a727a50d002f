"""The product record through the API, on both databases: harvest to injection, the release
gate, bad input (422 naming the field, nothing stored), lookback and recall (TRK-1)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from regenpath.domain.access import Role
from regenpath.domain.isbt128 import check_character
from tests.integration.pathway import (
    at,
    bedside_check,
    harvest,
    inject,
    lab,
    process,
    release,
    walk,
)


def test_a_harvest_makes_a_product_with_a_din_and_its_record(client: TestClient, episode) -> None:
    planned = walk(client, episode, until="planned")
    product = harvest(client, planned)
    assert product["status"] == "in_processing"
    assert len(product["din"]) == 13 and product["din"].startswith("W9999")
    assert product["din_eye_readable"].replace(" ", "")[:13] == product["din"]
    record = client.get(f"/api/v1/products/{product['id']}").json()
    assert record["episode_id"] == episode["id"]
    assert [t["title"] for t in record["custody"]] == ["Collected"]
    assert client.get(f"/api/v1/episodes/{episode['id']}").json()["stage"] == "harvested"


def test_DON_7_a_release_below_specification_is_refused_with_its_reasons(
    client: TestClient, episode
) -> None:
    planned = walk(client, episode, until="planned")
    product = harvest(client, planned)
    process(client, product["id"], viability=55.0)
    response = release(client, product["id"])
    assert response.status_code == 409
    assert response.json()["guard"] == "qc_specification_not_met"
    assert "Viability" in response.json()["detail"]
    stored = client.get(f"/api/v1/products/{product['id']}").json()["product"]
    assert stored["status"] == "quarantine"
    rejected = release(client, product["id"], decision="reject", reason="Viability 55 %")
    assert rejected.status_code == 200 and rejected.json()["status"] == "discarded"


def test_bad_input_names_the_field_and_stores_nothing(client: TestClient, episode) -> None:
    planned = walk(client, episode, until="planned")
    product = harvest(client, planned)
    base = f"/api/v1/products/{product['id']}"
    qc = lab(
        client,
        "POST",
        f"{base}/qc-results",
        json={"test": "viability", "value": 140, "measured_at": at()},
    )
    assert qc.status_code == 422 and qc.json()["field"] == "value"
    custody = lab(
        client,
        "POST",
        f"{base}/custody-events",
        json={"kind": "moved", "to_party": "Lab", "location": "Bench", "occurred_at": at(-60)},
    )
    assert custody.status_code == 422 and custody.json()["field"] == "occurred_at"
    record = client.get(base).json()
    assert [t["title"] for t in record["custody"]] == ["Collected"]
    assert all(f["status"] != "pass" for f in record["qc"])


def test_BED_1_a_din_with_a_wrong_check_character_is_refused(
    client: TestClient, episode, patient
) -> None:
    released = walk(client, episode, until="released")
    product_id = released["cycles"][0]["product_id"]
    din = client.get(f"/api/v1/products/{product_id}").json()["product"]["din"]
    wrong = "*" if check_character(din) != "*" else "A"
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/bedside-verifications",
        json={
            "scanned_din": din + wrong,
            "wristband_mrn": patient["mrn"],
            "wristband_birth_date": patient["birth_date"],
            "method": "barcode_scan",
        },
        headers=client.as_role(Role.NURSE),  # type: ignore[attr-defined]
    )
    assert response.status_code == 422
    assert response.json()["field"] == "scanned_din"


def test_BED_1_a_mismatch_is_a_deviation_then_the_right_patient_is_injected(
    client: TestClient, episode, patient, clock
) -> None:
    released = walk(client, episode, until="released")
    failed = bedside_check(client, released, patient, wristband_mrn="RS-999999")
    assert failed["passed"] is False
    assert inject(client, released).json()["guard"] == "bedside_verification_failed"
    clock.advance(minutes=2)
    assert bedside_check(client, released, patient)["passed"] is True
    response = inject(client, released, started_at=at(3), ended_at=at(4))
    assert response.status_code == 201, response.text
    assert response.json()["episode"]["stage"] == "recovery"


def test_QC_3_a_positive_culture_after_the_injection_opens_a_recall_task(
    client: TestClient, episode, patient, clock
) -> None:
    released = walk(client, episode, until="released")
    bedside_check(client, released, patient)
    clock.advance(minutes=10)
    assert inject(client, released, started_at=at(5), ended_at=at(9)).status_code == 201
    product_id = released["cycles"][0]["product_id"]
    clock.advance(days=3)
    culture = {"test": "sterility_culture", "outcome": "positive", "measured_at": at(60 * 24 * 3)}
    response = lab(client, "POST", f"/api/v1/products/{product_id}/qc-results", json=culture)
    assert response.status_code == 201, response.text
    assert response.json()["recall_task_id"] is not None
    tasks = client.get("/api/v1/tasks").json()
    assert [t["patient_id"] for t in tasks] == [patient["id"]]


def donor_with_products(client: TestClient, clinic, count: int) -> tuple[str, list[str]]:
    headers = client.as_role(Role.LAB_TECHNICIAN)  # type: ignore[attr-defined]
    donor = client.post(
        "/api/v1/donors",
        json={
            "clinic_id": clinic["id"],
            "code": "DNR-LOOK-1",
            "tissue": "umbilical_cord",
            "living": False,
            "recovered_at": at(-60 * 24 * 3),
            "screening": "no_risk_factors",
        },
        headers=headers,
    ).json()
    products = [
        client.post(
            f"/api/v1/donors/{donor['id']}/products",
            json={"product_type": "umbilical_cord_msc", "lot_number": "LOT-1"},
            headers=headers,
        ).json()["id"]
        for _ in range(count)
    ]
    return donor["id"], products


def test_DON_5_an_incomplete_donor_keeps_the_products_in_quarantine(
    client: TestClient, clinic
) -> None:
    donor_id, products = donor_with_products(client, clinic, 1)
    record = client.get(f"/api/v1/donors/{donor_id}").json()
    assert record["supports"] == "incomplete" and record["reasons"]
    refused = client.post(
        f"/api/v1/donors/{donor_id}/determination",
        json={"decision": "eligible", "password": client.password_for(Role.LAB_TECHNICIAN)},  # type: ignore[attr-defined]
        headers=client.as_role(Role.LAB_TECHNICIAN),  # type: ignore[attr-defined]
    )
    assert refused.status_code == 409
    assert refused.json()["guard"] == "donor_determination_unsupported"
    response = release(client, products[0])
    assert response.status_code == 409
    guards = [g["guard"] for g in response.json()["guards"]]
    assert "donor_eligibility_incomplete" in guards


def test_TRK_1_lookback_and_recall_from_a_donor(client: TestClient, clinic, patient) -> None:
    donor_id, products = donor_with_products(client, clinic, 3)
    headers = client.as_role(Role.QUALITY_OFFICER)  # type: ignore[attr-defined]
    trace = client.get(f"/api/v1/donors/{donor_id}/trace", headers=headers).json()
    assert sorted(p["product_id"] for p in trace["products"]) == sorted(products)
    assert trace["donors"] == ["DNR-LOOK-1"]
    same = client.get(f"/api/v1/products/{products[0]}/trace", headers=headers).json()
    assert len(same["products"]) == 3
    recalled = client.post(
        f"/api/v1/donors/{donor_id}/recall", json={"reason": "Supplier notice"}, headers=headers
    )
    assert recalled.status_code == 200, recalled.text
    assert recalled.json()["withdrawn"] == 3
    statuses = {client.get(f"/api/v1/products/{p}").json()["product"]["status"] for p in products}
    assert statuses == {"recalled"}
    lab_denied = client.post(
        f"/api/v1/donors/{donor_id}/recall",
        json={"reason": "x"},
        headers=client.as_role(Role.LAB_TECHNICIAN),  # type: ignore[attr-defined]
    )
    assert lab_denied.status_code == 403
