"""The real FHIR clients against the running server (issue 6 acceptance): fhirclient (SMART on
FHIR, strict 4.0.1 models) and fhirpy (what it sends is in fhir.md section 2). Each reads a
Patient, searches the patient's Observations by LOINC code and date, and creates a
QuestionnaireResponse whose score Observation it then finds."""

from __future__ import annotations

import pytest
from fhirclient.models.observation import Observation
from fhirclient.models.patient import Patient
from fhirclient.models.questionnaireresponse import QuestionnaireResponse
from fhirclient.server import FHIRServer
from fhirpy import SyncFHIRClient

from regenpath.domain.access import Role
from tests.integration.pathway import pain_response
from tests.integration.personas import StaffClient

pytestmark = pytest.mark.e2e
LOINC_NRS = "http://loinc.org|72514-3"


def new_patient(staff_api: StaffClient, mrn: str) -> str:
    response = staff_api.post(
        "/api/v1/patients",
        json={
            "clinic_id": staff_api.clinic["id"],
            "mrn": mrn,
            "family_name": "Client",
            "given_name": "Fhir",
            "birth_date": "1964-09-30",
            "sex": "male",
        },
    )
    assert response.status_code == 201, response.text
    patient_id: str = response.json()["id"]
    return patient_id


def test_fhirclient_reads_searches_and_creates(server_url: str, staff_api: StaffClient) -> None:
    patient_id = new_patient(staff_api, "FC-0001")
    server = FHIRServer(None, base_uri=f"{server_url}/fhir/R4")
    server.session.headers["Authorization"] = f"Bearer {staff_api.tokens[Role.PHYSICIAN]}"
    server.get_capability()  # GET /metadata, parsed as a strict 4.0.1 CapabilityStatement
    assert server.capabilityStatement.fhirVersion == "4.0.1"

    patient = Patient.read(patient_id, server)
    assert patient.name[0].family == "Client"
    assert patient.identifier[0].value == "FC-0001"

    created = QuestionnaireResponse(pain_response(patient_id, 7, 2, "2026-05-04T10:00:00Z")).create(
        server
    )
    assert created["id"]
    QuestionnaireResponse(pain_response(patient_id, 4, 1, "2026-08-04T10:00:00Z")).create(server)

    # fhirclient's $gt writes the old ">" prefix; the server takes it (fhir.md section 2).
    later = list(
        Observation.where(
            struct={"patient": patient_id, "code": LOINC_NRS, "date": {"$gt": "2026-06-01"}}
        ).perform_resources_iter(server)
    )
    assert sorted(o.valueQuantity.value for o in later) == [1, 4]
    scores = list(
        Observation.where(
            struct={"derived-from": f"QuestionnaireResponse/{created['id']}"}
        ).perform_resources_iter(server)
    )
    assert sorted(o.valueQuantity.value for o in scores) == [2, 7]
    assert all(o.code.coding[0].code == "72514-3" for o in scores)


def test_fhirpy_reads_searches_and_creates(server_url: str, staff_api: StaffClient) -> None:
    patient_id = new_patient(staff_api, "FP-0001")
    client = SyncFHIRClient(
        f"{server_url}/fhir/R4",
        authorization=f"Bearer {staff_api.tokens[Role.PHYSICIAN]}",
    )
    patient = client.reference("Patient", patient_id).to_resource()
    assert patient["birthDate"] == "1964-09-30"

    response = client.resource(
        "QuestionnaireResponse", **pain_response(patient_id, 6, 3, "2026-07-01T09:00:00Z")
    )
    response.save()  # POST with Content-Type: application/json
    assert response.id
    client.resource(
        "QuestionnaireResponse", **pain_response(patient_id, 8, 5, "2026-01-15T09:00:00Z")
    ).save()

    found = (
        client.resources("Observation")
        .search(patient=patient_id, code=LOINC_NRS, date__ge="2026-06-01")
        .sort("-date")
        .fetch_all()
    )
    assert sorted(o["valueQuantity"]["value"] for o in found) == [3, 6]
    derived = client.resources("Observation").search(
        derived_from=f"QuestionnaireResponse/{response.id}"
    )
    assert derived.count() == 2
    assert derived.first()["derivedFrom"][0]["reference"] == f"QuestionnaireResponse/{response.id}"
    # A merge-style PATCH gets a clear refusal, as an OperationOutcome (fhir.md section 2).
    patient["gender"] = "female"
    with pytest.raises(Exception, match="PATCH is not supported"):
        patient.save(fields=["gender"])
