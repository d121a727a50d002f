"""The FHIR R4 facade through HTTP, on both databases: read, search, create, update, errors as
OperationOutcome, clinic isolation, audit, Bulk Data export and import."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhirclient.models.bundle import Bundle as StrictBundle
from fhirclient.models.capabilitystatement import CapabilityStatement as StrictCapability
from fhirclient.models.observation import Observation as StrictObservation
from fhirclient.models.operationoutcome import OperationOutcome as StrictOutcome
from fhirclient.models.patient import Patient as StrictPatient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from regenpath.adapters.db.fhir import FhirResourceRow
from regenpath.adapters.db.tables import AuditEventRow, PatientRow
from regenpath.adapters.fhir.server import GUARDS
from regenpath.bootstrap import Application
from regenpath.domain.access import Action, Role, is_permitted
from regenpath.domain.access import Resource as Guarded
from tests.integration.pathway import pain_response
from tests.integration.personas import make_clinic, make_user

FHIR = "/fhir/R4"
LOINC_NRS = "http://loinc.org|72514-3"


def as_physician(client: TestClient) -> dict[str, str]:
    return client.as_role(Role.PHYSICIAN)  # type: ignore[attr-defined,no-any-return]


def outcome_of(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/fhir+json"), response.text
    body: dict[str, Any] = response.json()
    StrictOutcome(body)  # a valid R4 OperationOutcome, parsed strictly
    return body


def count(application: Application, row: Any) -> int:
    with application.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(row)) or 0)


def test_metadata_is_a_valid_r4_capability_statement(client: TestClient) -> None:
    response = client.get(f"{FHIR}/metadata", headers={"Authorization": ""})
    assert response.status_code == 200
    statement = StrictCapability(response.json())
    assert statement.fhirVersion == "4.0.1"
    types = {r.type for r in statement.rest[0].resource}
    assert {"Patient", "Observation", "QuestionnaireResponse", "Consent"} <= types


def test_a_patient_reads_as_a_strict_r4_patient_with_the_mrn_by_system(
    client: TestClient, patient: dict[str, Any], clinic: dict[str, str]
) -> None:
    response = client.get(f"{FHIR}/Patient/{patient['id']}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    read = StrictPatient(response.json())
    assert read.birthDate.isostring == "1968-04-12"
    assert read.identifier[0].type.coding[0].code == "MR"
    assert read.identifier[0].value == patient["mrn"]
    assert read.managingOrganization.reference == f"Organization/{clinic['id']}"


def test_a_created_questionnaire_response_is_scored_and_its_observations_found_by_loinc(
    client: TestClient, patient: dict[str, Any]
) -> None:
    created = client.post(
        f"{FHIR}/QuestionnaireResponse",
        json=pain_response(patient["id"], 7, 3, "2026-03-02T09:00:00Z"),
        headers=as_physician(client) | {"Content-Type": "application/json"},
    )
    assert created.status_code == 201, created.text
    response_id = created.json()["id"]
    assert created.headers["location"].endswith(f"/fhir/R4/QuestionnaireResponse/{response_id}")
    found = client.get(
        f"{FHIR}/Observation",
        params={"derived-from": f"QuestionnaireResponse/{response_id}", "_sort": "code"},
    )
    bundle = StrictBundle(found.json())
    assert bundle.total == 2
    values = sorted(e.resource.valueQuantity.value for e in bundle.entry)
    assert values == [3, 7]
    by_loinc = client.get(
        f"{FHIR}/Observation",
        params={"patient": f"Patient/{patient['id']}", "code": LOINC_NRS, "date": "ge2026-03"},
    )
    assert by_loinc.json()["total"] == 2
    observation = StrictObservation(by_loinc.json()["entry"][0]["resource"])
    assert observation.derivedFrom[0].reference == f"QuestionnaireResponse/{response_id}"


def test_date_prefixes_new_and_legacy_narrow_the_search(
    client: TestClient, patient: dict[str, Any]
) -> None:
    for day, back in (("2026-01-10", 8), ("2026-02-10", 6), ("2026-03-10", 4)):
        response = client.post(
            f"{FHIR}/QuestionnaireResponse",
            json=pain_response(patient["id"], back, 0, f"{day}T10:00:00Z"),
            headers=as_physician(client),
        )
        assert response.status_code == 201, response.text

    def backs(*date: str) -> list[float]:
        params = [("code", "https://regenpath.org/fhir/CodeSystem/score|nrs-spine-back")]
        params += [("date", d) for d in date] + [("_sort", "date")]
        entries = client.get(f"{FHIR}/Observation", params=params).json().get("entry", [])
        return [e["resource"]["valueQuantity"]["value"] for e in entries]

    assert backs("gt2026-01-10") == [6, 4]
    assert backs(">2026-01-10") == [6, 4]  # fhirclient's legacy prefix
    assert backs("ge2026-02-10", "lt2026-03") == [6]
    assert backs("<2026-02") == [8]
    assert backs("le2026-02-10") == [8, 6]
    assert backs("2026-03") == [4]
    bad = client.get(f"{FHIR}/Observation", params={"date": "03/01/2026"})
    assert bad.status_code == 400
    assert outcome_of(bad)["issue"][0]["expression"] == ["date"]


def test_paging_count_sort_include_and_total(client: TestClient, clinic: dict[str, str]) -> None:
    for n in range(5):
        response = client.post(
            f"{FHIR}/Patient",
            json={
                "resourceType": "Patient",
                "identifier": [{"type": {"coding": [{"code": "MR"}]}, "value": f"FH-{n:03d}"}],
                "name": [{"family": f"Page{n}", "given": ["Test"]}],
                "birthDate": f"19{50 + n}-01-01",
                "gender": "male",
                "managingOrganization": {"reference": f"Organization/{clinic['id']}"},
            },
        )
        assert response.status_code == 201, response.text
    first = client.get(
        f"{FHIR}/Patient", params={"family": "page", "_count": 2, "_sort": "-birthdate"}
    )
    body = first.json()
    assert body["total"] == 5
    assert [e["resource"]["name"][0]["family"] for e in body["entry"]] == ["Page4", "Page3"]
    following = next(link["url"] for link in body["link"] if link["relation"] == "next")
    assert following.startswith("https://testserver/fhir/R4/Patient?")
    second = client.get(following).json()
    assert [e["resource"]["name"][0]["family"] for e in second["entry"]] == ["Page2", "Page1"]
    only_total = client.get(f"{FHIR}/Patient", params={"_count": 0, "_totalMethod": "count"})
    assert only_total.json()["total"] == 5
    assert "entry" not in only_total.json()
    patient_id = body["entry"][0]["resource"]["id"]
    client.post(
        f"{FHIR}/QuestionnaireResponse",
        json=pain_response(patient_id, 5, 5, "2026-01-01T00:00:00Z"),
        headers=as_physician(client),
    )
    included = client.get(
        f"{FHIR}/Observation",
        params={"subject": f"Patient/{patient_id}", "_include": "Observation:subject"},
    ).json()
    modes = sorted(e["search"]["mode"] for e in included["entry"])
    assert modes == ["include", "match", "match"]
    assert included["total"] == 2


def test_a_fhir_patient_is_a_patient_of_the_pathway_and_an_update_corrects_it(
    client: TestClient, clinic: dict[str, str]
) -> None:
    body = {
        "resourceType": "Patient",
        "identifier": [{"type": {"coding": [{"code": "MR"}]}, "value": "FH-777"}],
        "name": [{"family": "Okafor", "given": ["Ada"]}],
        "birthDate": "1971-05-05",
        "gender": "female",
        "address": [{"city": "Springfield"}],
        "managingOrganization": {"reference": f"Organization/{clinic['id']}"},
    }
    created = client.post(f"{FHIR}/Patient", json=body)
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    listed = client.get("/api/v1/patients", params={"mrn": "FH-777"}).json()
    assert [p["id"] for p in listed["items"]] == [patient_id]
    assert created.json()["address"] == [{"city": "Springfield"}]  # kept beside the record
    changed = created.json() | {"name": [{"family": "Okafor-Reyes", "given": ["Ada"]}]}
    updated = client.put(f"{FHIR}/Patient/{patient_id}", json=changed)
    assert updated.status_code == 200, updated.text
    assert client.get(f"/api/v1/patients/{patient_id}").json()["family_name"] == "Okafor-Reyes"
    assert updated.json()["address"] == [{"city": "Springfield"}]
    mismatch = client.put(f"{FHIR}/Patient/{patient_id}", json=changed | {"id": "other"})
    assert mismatch.status_code == 400


def test_bad_input_is_an_operation_outcome_and_nothing_is_stored(
    application: Application, client: TestClient, patient: dict[str, Any]
) -> None:
    before = (count(application, FhirResourceRow), count(application, PatientRow))
    malformed = client.post(
        f"{FHIR}/Observation", content=b'{"resourceType": "Obs', headers=as_physician(client)
    )
    assert malformed.status_code == 400
    assert outcome_of(malformed)["issue"][0]["code"] == "structure"
    wrong_type = client.post(
        f"{FHIR}/Observation", json={"resourceType": "Patient"}, headers=as_physician(client)
    )
    assert wrong_type.status_code == 400
    assert outcome_of(wrong_type)["issue"][0]["expression"] == ["resourceType"]
    unknown_element = client.post(
        f"{FHIR}/Observation",
        json={
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "x"},
            "colour": "red",
        },
        headers=as_physician(client),
    )
    assert unknown_element.status_code == 422
    assert outcome_of(unknown_element)["issue"][0]["expression"] == ["Observation.colour"]
    bad_status = client.post(
        f"{FHIR}/Observation",
        json={"resourceType": "Observation", "status": "done", "code": {"text": "x"}},
        headers=as_physician(client),
    )
    assert bad_status.status_code == 422
    assert outcome_of(bad_status)["issue"][0]["expression"] == ["Observation.status"]
    no_subject = client.post(
        f"{FHIR}/QuestionnaireResponse",
        json=pain_response(patient["id"], 1, 1, "2026-01-01T00:00:00Z") | {"subject": None},
        headers=as_physician(client),
    )
    assert no_subject.status_code == 422, no_subject.text
    assert outcome_of(no_subject)["issue"][0]["expression"] == ["QuestionnaireResponse.subject"]
    other = make_clinic(application, "Harbour Orthobiologics")
    stranger = make_user(application, other, Role.PHYSICIAN)
    cross = client.post(
        f"{FHIR}/QuestionnaireResponse",
        json=pain_response(patient["id"], 1, 1, "2026-01-01T00:00:00Z"),
        headers={"Authorization": f"Bearer {stranger}"},
    )
    assert cross.status_code == 422
    assert "not a patient of your clinic" in outcome_of(cross)["issue"][0]["diagnostics"]
    assert (count(application, FhirResourceRow), count(application, PatientRow)) == before


def test_another_clinic_sees_nothing_and_roles_are_enforced(
    application: Application, client: TestClient, patient: dict[str, Any]
) -> None:
    other = make_clinic(application, "Harbour Orthobiologics")
    stranger = {"Authorization": f"Bearer {make_user(application, other, Role.PHYSICIAN)}"}
    assert client.get(f"{FHIR}/Patient/{patient['id']}", headers=stranger).status_code == 404
    searched = client.get(f"{FHIR}/Patient", headers=stranger).json()
    assert searched["total"] == 0
    assert patient["id"] not in json.dumps(searched)
    analyst = client.as_role(Role.REGISTRY_ANALYST)  # type: ignore[attr-defined]
    refused = client.get(f"{FHIR}/Patient/{patient['id']}", headers=analyst)
    assert refused.status_code == 403
    assert outcome_of(refused)["issue"][0]["code"] == "forbidden"
    anonymous = client.get(f"{FHIR}/Patient/{patient['id']}", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert outcome_of(anonymous)["issue"][0]["code"] == "login"
    patched = client.patch(f"{FHIR}/Patient/{patient['id']}", json={"gender": "male"})
    assert patched.status_code == 405
    assert outcome_of(patched)["issue"][0]["code"] == "not-supported"
    assert client.get(f"{FHIR}/Basic/1").status_code == 404
    unknown = client.post(f"{FHIR}/Basic", json={"resourceType": "Basic"})
    assert unknown.status_code == 404
    assert outcome_of(unknown)["issue"][0]["code"] == "not-supported"


def test_reads_and_searches_leave_audit_entries(
    application: Application, client: TestClient, patient: dict[str, Any]
) -> None:
    client.get(f"{FHIR}/Patient/{patient['id']}")
    client.get(f"{FHIR}/Observation", params={"patient": patient["id"]})
    with application.session_factory() as session:
        kinds = set(
            session.execute(
                select(AuditEventRow.action, AuditEventRow.resource_type).where(
                    AuditEventRow.resource_type.like("fhir:%")
                )
            ).all()
        )
    assert ("read", "fhir:Patient") in kinds
    assert ("search", "fhir:Observation") in kinds


def test_bulk_export_kick_off_poll_and_ndjson(
    client: TestClient, patient: dict[str, Any], episode: dict[str, Any], clinic: dict[str, str]
) -> None:
    client.post(
        f"{FHIR}/QuestionnaireResponse",
        json=pain_response(patient["id"], 6, 2, "2026-02-01T08:00:00Z"),
        headers=as_physician(client),
    )
    quality = client.as_role(Role.QUALITY_OFFICER)  # type: ignore[attr-defined]
    kick_off = client.get(
        f"{FHIR}/Group/{clinic['id']}/$export",
        params={"_type": "Patient,Condition,Observation"},
        headers=quality | {"Prefer": "respond-async", "Accept": "application/fhir+json"},
    )
    assert kick_off.status_code == 202, kick_off.text
    status_url = kick_off.headers["content-location"]
    done = client.get(status_url, headers=quality)
    assert done.status_code == 200, done.text
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True
    files = {item["type"]: item for item in manifest["output"]}
    assert set(files) == {"Patient", "Condition", "Observation"}
    ndjson = client.get(files["Observation"]["url"], headers=quality)
    assert ndjson.headers["content-type"].startswith("application/fhir+ndjson")
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    assert len(lines) == files["Observation"]["count"] == 2
    conditions = client.get(files["Condition"]["url"], headers=quality).text.splitlines()
    assert json.loads(conditions[0])["code"]["coding"][0] == {
        "system": "http://hl7.org/fhir/sid/icd-10-cm",
        "code": "M51.36",
    }
    # Only the one who asked may collect it; a nurse may not export at all.
    assert client.get(status_url, headers=as_physician(client)).status_code == 404
    nurse = client.as_role(Role.NURSE)  # type: ignore[attr-defined]
    assert client.get(f"{FHIR}/$export", headers=nurse).status_code == 403
    later = client.get(
        f"{FHIR}/$export",
        params={"_since": "2999-01-01T00:00:00Z", "_type": "Observation"},
        headers=quality,
    )
    since_manifest = client.get(later.headers["content-location"], headers=quality).json()
    assert since_manifest["output"][0]["count"] == 0


def test_ndjson_import_is_atomic_per_file_and_idempotent(
    application: Application, client: TestClient, patient: dict[str, Any]
) -> None:
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
        "subject": {"reference": f"Patient/{patient['id']}"},
        "effectiveDateTime": "2025-12-01T10:00:00Z",
        "valueQuantity": {
            "value": 5,
            "unit": "{score}",
            "system": "http://unitsofmeasure.org",
            "code": "{score}",
        },
    }
    good = "\n".join(json.dumps(observation | {"id": f"hosp-{n}"}) for n in range(3)) + "\n"
    physician = as_physician(client) | {"Content-Type": "application/fhir+ndjson"}
    first = client.post(f"{FHIR}/$import", content=good, headers=physician)
    assert first.status_code == 200, first.text
    assert "3 added" in first.json()["issue"][0]["diagnostics"]
    again = client.post(f"{FHIR}/$import", content=good, headers=physician)
    assert "0 added, 0 changed, 3 unchanged" in again.json()["issue"][0]["diagnostics"]
    stored = count(application, FhirResourceRow)
    broken = good.replace("hosp-", "more-") + '{"resourceType": "Observation", "status": "final"}\n'
    refused = client.post(f"{FHIR}/$import", content=broken, headers=physician)
    assert refused.status_code == 422
    assert outcome_of(refused)["issue"][0]["diagnostics"].startswith("line 4:")
    assert count(application, FhirResourceRow) == stored  # nothing of the file stayed
    read = client.get(f"{FHIR}/Observation/hosp-1")
    assert read.json()["meta"]["versionId"] == "1"
    assert read.headers["etag"] == 'W/"1"'
    changed = read.json() | {"valueQuantity": observation["valueQuantity"] | {"value": 6}}
    stale = client.put(
        f"{FHIR}/Observation/hosp-1",
        json=changed,
        headers=as_physician(client) | {"If-Match": 'W/"7"'},
    )
    assert stale.status_code == 412
    updated = client.put(
        f"{FHIR}/Observation/hosp-1",
        json=changed,
        headers=as_physician(client) | {"If-Match": 'W/"1"'},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["meta"]["versionId"] == "2"


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_reads_through_fhir_what_the_permission_table_gives_it(
    client: TestClient, patient: dict[str, Any], role: Role
) -> None:
    """The FHIR routes take their permission from the resource type in the path, so the
    access matrix (test_access_matrix.py) leaves them to this walk."""
    headers = client.as_role(role)  # type: ignore[attr-defined]
    for resource_type, guarded in GUARDS.items():
        url = f"{FHIR}/{resource_type}"
        if resource_type == "Patient":
            url += f"/{patient['id']}"
        response = client.get(url, headers=headers)
        allowed = is_permitted(role, Action.READ, guarded)
        assert response.status_code == (200 if allowed else 403), (resource_type, response.text)
    export = client.get(f"{FHIR}/$export", headers=headers)
    assert export.status_code == (
        202 if is_permitted(role, Action.READ, Guarded.BULK_DATA) else 403
    )


def test_a_hospital_file_with_its_own_ids_and_a_conditional_reference_imports(
    client: TestClient, clinic: dict[str, str]
) -> None:
    patient = {
        "resourceType": "Patient",
        "id": "syn-001",
        "meta": {"versionId": "7", "lastUpdated": "2020-01-01T00:00:00Z"},
        "identifier": [{"type": {"coding": [{"code": "MR"}]}, "value": "SYN-001"}],
        "name": [{"family": "Sintetico", "given": ["Ana", "Maria"]}],
        "gender": "female",
        "birthDate": "1959-02-03",
        "address": [{"city": "Boston", "state": "MA"}],
    }
    observation = {
        "resourceType": "Observation",
        "id": "syn-obs-1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
        "subject": {"reference": "Patient?identifier=SYN-001"},  # as Synthea bundles write it
        "effectiveDateTime": "2025-05-05",
        "valueQuantity": {"value": 6},
    }
    body = json.dumps(patient) + "\n" + json.dumps(observation) + "\n"
    done = client.post(f"{FHIR}/$import", content=body, headers=as_physician(client))
    assert done.status_code == 200, done.text
    read = client.get(f"{FHIR}/Patient/syn-001").json()
    assert read["name"][0]["given"] == ["Ana", "Maria"]
    assert read["address"] == [{"city": "Boston", "state": "MA"}]
    assert read["meta"]["versionId"] == "1"  # this server's version, not the sender's
    found = client.get(f"{FHIR}/Observation", params={"patient": "syn-001"}).json()
    assert found["entry"][0]["resource"]["subject"] == {"reference": "Patient/syn-001"}
    listed = client.get("/api/v1/patients", params={"mrn": "SYN-001"}).json()["items"]
    assert [(p["given_name"], p["family_name"]) for p in listed] == [("Ana Maria", "Sintetico")]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
fhir_like = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Patient", "Observation", "QuestionnaireResponse", "Basic"])},
    optional={
        "id": st.text(max_size=10),
        "status": st.sampled_from(["final", "completed", "done", ""]),
        "subject": json_values,
        "item": json_values,
        "code": json_values,
        "birthDate": st.text(max_size=12),
        "identifier": json_values,
        "name": json_values,
    },
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=fhir_like)
def test_no_body_makes_the_facade_fail_with_a_5xx(
    client: TestClient, patient: dict[str, Any], body: dict[str, Any]
) -> None:
    """Bounded fuzzing of create and import: any answer but a server error (or a traceback)."""
    headers = as_physician(client)
    created = client.post(f"{FHIR}/{body['resourceType']}", json=body, headers=headers)
    assert created.status_code < 500, created.text
    imported = client.post(f"{FHIR}/$import", content=json.dumps(body), headers=headers)
    assert imported.status_code < 500, imported.text
    assert imported.headers["content-type"].startswith("application/fhir+json")


@pytest.mark.parametrize("element", ["identifier", "name"])
def test_a_patient_element_sent_as_null_is_absent_not_a_5xx(
    client: TestClient, element: str
) -> None:
    """Found by the fuzzing above: `"identifier": null` raised a TypeError (500)."""
    body = {
        "resourceType": "Patient",
        "identifier": [{"type": {"coding": None}, "value": "X-1"}],
        "name": [{"family": "Null", "given": None}],
        "gender": "female",
        "birthDate": "1970-01-01",
    }
    response = client.post(
        f"{FHIR}/Patient", json=body | {element: None}, headers=as_physician(client)
    )
    assert response.status_code == 422, response.text
    assert response.json()["resourceType"] == "OperationOutcome"
