"""Patients through the HTTP API, on every database."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from tests.integration.personas import make_clinic

PROBLEM = "application/problem+json"


def born(n: int) -> str:
    """A birth date of its own for the n-th patient a test registers: patients with the same
    name, birth date and sex are one person to the look-alike check (ID-2)."""
    return (date(1950, 1, 1) + timedelta(days=n)).isoformat()


def new_patient(clinic_id: str, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "clinic_id": clinic_id,
        "mrn": "RS-000002",
        "family_name": "Dalton",
        "given_name": "Quinn",
        "birth_date": "1975-09-30",
        "sex": "male",
    }
    return body | overrides


def test_a_registered_patient_can_be_read_back(client: TestClient, patient) -> None:
    response = client.get(f"/api/v1/patients/{patient['id']}")
    assert response.status_code == 200
    assert response.json() == patient
    assert patient["version"] == 1


def test_patients_are_found_by_name_mrn_and_birth_date(client: TestClient, clinic, patient) -> None:
    client.post("/api/v1/patients", json=new_patient(clinic["id"]))
    by_name = client.get("/api/v1/patients", params={"name": "hal"}).json()["items"]
    by_mrn = client.get("/api/v1/patients", params={"mrn": "RS-000002"}).json()["items"]
    by_birth = client.get("/api/v1/patients", params={"birth_date": "1968-04-12"}).json()["items"]
    assert [p["family_name"] for p in by_name] == ["Hale"]
    assert [p["family_name"] for p in by_mrn] == ["Dalton"]
    assert [p["id"] for p in by_birth] == [patient["id"]]


def test_a_name_search_treats_wildcards_as_text(client: TestClient, patient) -> None:
    assert client.get("/api/v1/patients", params={"name": "%"}).json()["items"] == []


def test_search_pages_with_a_cursor(client: TestClient, clinic) -> None:
    for n in range(5):
        client.post(
            "/api/v1/patients",
            json=new_patient(clinic["id"], mrn=f"M{n}", family_name=f"F{n}", birth_date=born(n)),
        )
    first = client.get("/api/v1/patients", params={"limit": 3}).json()
    second = client.get(
        "/api/v1/patients", params={"limit": 3, "cursor": first["next_cursor"]}
    ).json()
    names = [p["family_name"] for p in first["items"] + second["items"]]
    assert names == ["F0", "F1", "F2", "F3", "F4"]
    assert second["next_cursor"] is None


def test_a_forged_cursor_is_a_clear_error(client: TestClient) -> None:
    response = client.get("/api/v1/patients", params={"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert response.json()["field"] == "cursor"


def test_an_update_with_the_current_version_bumps_it(client: TestClient, patient) -> None:
    response = client.patch(
        f"/api/v1/patients/{patient['id']}", json={"version": 1, "phone": "+1 555 0100"}
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response.json()["phone"] == "+1 555 0100"
    assert response.json()["family_name"] == "Hale"


def test_a_stale_update_is_refused_with_409_and_writes_nothing(client: TestClient, patient) -> None:
    url = f"/api/v1/patients/{patient['id']}"
    client.patch(url, json={"version": 1, "given_name": "Ava"})
    response = client.patch(url, json={"version": 1, "given_name": "Eve"})
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == "version"
    assert client.get(url).json()["given_name"] == "Ava"


def test_a_duplicate_mrn_names_the_field(client: TestClient, clinic, patient) -> None:
    response = client.post("/api/v1/patients", json=new_patient(clinic["id"], mrn="RS-000001"))
    assert response.status_code == 409
    assert response.json()["field"] == "mrn"


def test_a_malformed_birth_date_names_the_field(client: TestClient, clinic) -> None:
    response = client.post(
        "/api/v1/patients", json=new_patient(clinic["id"], birth_date="12/04/1968")
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["field"] == "birth_date"
    assert problem["status"] == 422
    assert problem["type"].startswith("urn:regenpath:problem:")


def test_a_birth_date_in_the_future_is_refused(client: TestClient, clinic) -> None:
    response = client.post(
        "/api/v1/patients", json=new_patient(clinic["id"], birth_date="2999-01-01")
    )
    assert response.status_code == 422
    assert response.json()["field"] == "birth_date"


def test_a_missing_field_is_named(client: TestClient, clinic) -> None:
    body = new_patient(clinic["id"])
    del body["family_name"]
    response = client.post("/api/v1/patients", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == "family_name"


def test_an_unknown_field_is_refused_rather_than_dropped(client: TestClient, clinic) -> None:
    response = client.post("/api/v1/patients", json=new_patient(clinic["id"], ssn="123-45-6789"))
    assert response.status_code == 422
    assert response.json()["field"] == "ssn"


def test_an_unknown_patient_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/v1/patients/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_a_patient_of_an_unknown_clinic_names_clinic_id(client: TestClient) -> None:
    response = client.post(
        "/api/v1/patients", json=new_patient("00000000-0000-4000-8000-000000000000")
    )
    assert response.status_code == 422
    assert response.json()["field"] == "clinic_id"


def test_a_body_that_is_not_json_is_a_clear_error(client: TestClient) -> None:
    response = client.post(
        "/api/v1/patients", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_a_user_lists_only_the_clinics_they_belong_to(
    client: TestClient, clinic, application
) -> None:
    make_clinic(application, "Elsewhere Clinic")
    assert [c["name"] for c in client.get("/api/v1/clinics").json()] == ["Riverside Spine"]


def test_clinics_are_not_created_through_the_api(client: TestClient) -> None:
    response = client.post("/api/v1/clinics", json={"name": "X", "time_zone": "UTC"})
    assert response.status_code == 405
