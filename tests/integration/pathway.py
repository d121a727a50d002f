"""Walking an episode along the pathway through the API, for tests that need it further on.

The product steps go through their own records, as in the clinic: the physician's harvest
record, the lab's processing steps, QC and signed release, the nurse's bedside check and the
physician's injection record. Times are the test clock's START (it does not move by itself).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from regenpath.domain.access import STAGE_ROLES, Role
from regenpath.domain.pathway import Stage
from tests.support import START

BEFORE_PLAN = (
    ("in_evaluation", {}),
    ("eligible", {}),
    ("consented", {}),
)
AUTOLOGOUS_STAGES = (
    "in_evaluation",
    "eligible",
    "consented",
    "planned",
    "harvested",
    "processed",
    "released",
)


def new_episode(
    client: TestClient,
    mrn: str,
    family: str,
    given: str,
    born: str,
    sex: str = "female",
    **contact: str | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A patient of the client's clinic with a lumbar-disc episode: (patient, episode);
    ``contact``: the patient's email and phone."""
    patient: dict[str, Any] = client.post(
        "/api/v1/patients",
        json={
            "clinic_id": client.clinic["id"],  # type: ignore[attr-defined]
            "mrn": mrn,
            "family_name": family,
            "given_name": given,
            "birth_date": born,
            "sex": sex,
        }
        | contact,
    ).json()
    episode: dict[str, Any] = client.post(
        "/api/v1/episodes",
        json={
            "patient_id": patient["id"],
            "condition_code": "M51.36",
            "condition_text": "Lumbar disc degeneration",
            "target_site": "L4-L5 disc",
        },
    ).json()
    return patient, episode


def at(minutes: float = 0) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def mover(to: str) -> Role:
    """Whose step it is: the physician where allowed, else the first role that may."""
    allowed = STAGE_ROLES[Stage(to)]
    return Role.PHYSICIAN if Role.PHYSICIAN in allowed else sorted(allowed)[0]


# An unremarkable lumbar-disc assessment: every rule answered, nothing found (EL-*, EX-*).
ELIGIBLE_SPINE: dict[str, Any] = {
    "region": "spine",
    "condition_code": "M51.36",
    "age_years": 57,
    "sex": "female",
    "symptom_onset": "2025-01-15",
    "back_pain_nrs": 6,
    "leg_pain_nrs": 2,
    "odi": 42,
    "conservative_care": [{"kind": "physiotherapy", "months": 8, "result": "no_relief"}],
    "imaging": {
        "modality": "mri",
        "taken_on": "2026-01-10",
        "pfirrmann_grade": 4,
        "modic_type": 1,
        "disc_height_pct": 70,
        "levels_affected": 1,
    },
    "facet_ruled_out": True,
    "si_joint_ruled_out": True,
    "spondylolisthesis_grade": 0,
    "active_infection": False,
    "active_malignancy": False,
    "immunosuppressants": False,
    "pregnant_or_breastfeeding": False,
    "steroid_injections": [],
    "severe_anaemia": False,
    "bleeding_disorder": False,
    "anticoagulants": False,
    "diabetes": "none",
    "uncontrolled_hypertension": False,
    "serious_systemic_disease": False,
    "height_cm": 168,
    "weight_kg": 66,
    "osteoporosis": False,
    "prior_surgery_at_index": False,
    "prior_intradiscal_injection": False,
    "prior_cell_therapy": False,
    "substance_abuse": False,
    "severe_depression": False,
    "hiv_or_chronic_hepatitis": False,
    "septic_arthritis": [],
    "medications": [],
    "smoking": "never",
    "activity": "moderate",
}


def assess(client: TestClient, episode: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The physician records the assessment (ELIGIBLE_SPINE with ``changes``)."""
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/assessments",
        json=ELIGIBLE_SPINE | changes,
        headers=client.as_role(Role.PHYSICIAN),  # type: ignore[attr-defined]
    )
    assert response.status_code == 201, response.text
    recorded: dict[str, Any] = response.json()
    return recorded


def decide(client: TestClient, episode: dict[str, Any], **body: Any) -> Any:
    return client.post(
        f"/api/v1/episodes/{episode['id']}/eligibility/decision",
        json={"version": episode["version"], "decision": "accept"} | body,
        headers=client.as_role(Role.PHYSICIAN),  # type: ignore[attr-defined]
    )


PLAN: dict[str, Any] = {
    "source": "autologous",
    "product_type": "bmac",
    "targets": ["L4-L5 disc"],
    "sessions": 1,
    "guidance": "fluoroscopy",
    "same_surgical_procedure": False,
    "processing": ["centrifugation", "concentration"],
    "price": "4800.00",
    "currency": "USD",
    "payment": "self_pay",
}


# A cord MSC product from a donor, under an IND (REG-5): the plan an allogeneic cycle needs.
DONOR_PLAN: dict[str, Any] = {
    "source": "allogeneic",
    "product_type": "umbilical_cord_msc",
    "processing": ["thawing"],
    "ind_number": "IND 12345",
}


def consent_to(client: TestClient, episode: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """From eligible: the physician plans (``changes`` on the standard plan) and the patient
    signs it; the episode as it then is."""
    plan(client, episode, **changes)
    signed = sign_consent(client, episode)
    assert signed.status_code == 201, signed.text
    return episode_now(client, episode)


def plan(client: TestClient, episode: dict[str, Any], **changes: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/plans",
        json=PLAN | changes,
        headers=client.as_role(Role.PHYSICIAN),  # type: ignore[attr-defined]
    )
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def sign_consent(client: TestClient, episode: dict[str, Any], **changes: Any) -> Any:
    """The patient signs the current plan's document on the tablet (typing their name)."""
    headers = client.as_role(Role.PHYSICIAN)  # type: ignore[attr-defined]
    view = client.get(f"/api/v1/episodes/{episode['id']}/consent", headers=headers).json()
    patient = client.get(f"/api/v1/patients/{episode['patient_id']}", headers=headers).json()
    body = {
        "version": episode_now(client, episode)["version"],
        "document_hash": view["document"]["content_hash"],
        "signed_name": f"{patient['given_name']} {patient['family_name']}",
        "agreed": True,
    }
    return client.post(
        f"/api/v1/episodes/{episode['id']}/consents", json=body | changes, headers=headers
    )


# RCV-1: the tests start follow-up on the injection's day, which needs a clinician's reason.
SEEN_EARLY = "Reviewed in clinic on day 1: recovered, follow-up may start"


def move(client: TestClient, episode: dict[str, Any], to: str, **extra: Any) -> dict[str, Any]:
    """Move the episode as the person whose step it is (STAGE_ROLES); closing is signed, and
    eligibility is the physician's decision on an (unremarkable) assessment."""
    if to == "completed":
        return close(client, episode, **extra)
    if to == "eligible":
        assess(client, episode)
        response = decide(client, episode)
        assert response.status_code == 200, response.text
        moved: dict[str, Any] = response.json()["episode"]
        return moved
    if to == "consented":
        plan(client, episode)
        signed = sign_consent(client, episode)
        assert signed.status_code == 201, signed.text
        return episode_now(client, episode)
    if to == "follow_up" and episode["stage"] == "recovery":
        extra.setdefault("reason", SEEN_EARLY)
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/transitions",
        json={"to": to, "version": episode["version"], **extra},
        headers=client.as_role(mover(to)),  # type: ignore[attr-defined]
    )
    assert response.status_code == 200, response.text
    moved: dict[str, Any] = response.json()["episode"]
    return moved


def episode_now(client: TestClient, episode: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = client.get(f"/api/v1/episodes/{episode['id']}").json()
    return found


HARVEST = {
    "product_type": "bmac",
    "source": "bone_marrow",
    "site": "posterior_iliac_crest",
    "side": "bilateral",
    "anaesthesia": "local_with_sedation",
    "volume_ml": 90,
    "nsaids_stopped": True,
    "anticoagulants_reviewed": True,
}


def harvest(client: TestClient, episode: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body = HARVEST | {"version": episode["version"], "started_at": at(-40), "ended_at": at()}
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/harvest",
        json=body | overrides,
        headers=client.as_role(Role.PHYSICIAN),  # type: ignore[attr-defined]
    )
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()["product"]
    return product


def lab(client: TestClient, method: str, path: str, **kwargs: Any) -> Any:
    return client.request(
        method,
        path,
        headers=client.as_role(Role.LAB_TECHNICIAN),  # type: ignore[attr-defined]
        **kwargs,
    )


def process(client: TestClient, product_id: str, viability: float = 91.0) -> dict[str, Any]:
    """Two steps, the QC the BMAC specification asks for, and processing finished."""
    base = f"/api/v1/products/{product_id}"
    for kind, start in (("centrifugation", 0), ("concentration", 2)):
        step = {"kind": kind, "started_at": at(start), "ended_at": at(start + 1), "device": "CF-2"}
        assert lab(client, "POST", f"{base}/processing-steps", json=step).status_code == 201
    for test, value in (("viability", viability), ("tnc_per_ml", 62.0), ("volume", 6.0)):
        qc = {"test": test, "value": value, "measured_at": at(3)}
        assert lab(client, "POST", f"{base}/qc-results", json=qc).status_code == 201
    response = lab(client, "POST", f"{base}/finish-processing")
    assert response.status_code == 200, response.text
    finished: dict[str, Any] = response.json()
    return finished


def release(client: TestClient, product_id: str, **overrides: Any) -> Any:
    body = {"decision": "release", "password": client.password_for(Role.LAB_TECHNICIAN)}  # type: ignore[attr-defined]
    return lab(client, "POST", f"/api/v1/products/{product_id}/release", json=body | overrides)


def walk(client: TestClient, episode: dict[str, Any], until: str) -> dict[str, Any]:
    """Up to ``until`` on an autologous cycle, through the records each step needs."""
    assert until in AUTOLOGOUS_STAGES, f"{until} is not on the autologous path up to release"
    for stage, extra in BEFORE_PLAN:
        episode = move(client, episode, stage, **extra)
        if stage == until:
            return episode
    episode = move(client, episode, "planned", cell_source="autologous")
    if until == "planned":
        return episode
    product = harvest(client, episode)
    if until != "harvested":
        process(client, product["id"])
        if until == "released":
            response = release(client, product["id"])
            assert response.status_code == 200, response.text
    return episode_now(client, episode)


def bedside_check(
    client: TestClient, episode: dict[str, Any], patient: dict[str, Any], **overrides: Any
) -> dict[str, Any]:
    product = client.get(f"/api/v1/products/{episode['cycles'][-1]['product_id']}").json()
    body = {
        "scanned_din": product["product"]["din_eye_readable"],
        "wristband_mrn": patient["mrn"],
        "wristband_birth_date": patient["birth_date"],
        "method": "barcode_scan",
    } | overrides
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/bedside-verifications",
        json=body,
        headers=client.as_role(Role.NURSE),  # type: ignore[attr-defined]
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


INJECTION = {
    "guidance": "fluoroscopy",
    "approach": "posterolateral_intradiscal",
    "sites": [
        {"target": "L4-L5 disc", "laterality": "midline", "volume_ml": 2, "cell_dose_million": 120}
    ],
    "image_references": ["PACS-0001"],
    "time_out": ["patient", "procedure", "site", "side", "product"],
}


def inject(client: TestClient, episode: dict[str, Any], **overrides: Any) -> Any:
    body = INJECTION | {"version": episode["version"], "started_at": at(1), "ended_at": at(4)}
    return client.post(
        f"/api/v1/episodes/{episode['id']}/injection",
        json=body | overrides,
        headers=client.as_role(Role.PHYSICIAN),  # type: ignore[attr-defined]
    )


def close(client: TestClient, episode: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Close the episode under the physician's signature (their password re-entered)."""
    response = client.post(
        f"/api/v1/episodes/{episode['id']}/close",
        json={"version": episode["version"], "password": client.physician_password} | extra,  # type: ignore[attr-defined]
        headers=client.as_role(Role.PHYSICIAN),  # type: ignore[attr-defined]
    )
    assert response.status_code == 200, response.text
    closed: dict[str, Any] = response.json()["episode"]
    return closed


def pain_response(patient_id: str, back: int, leg: int, authored: str) -> dict[str, Any]:
    """A FHIR QuestionnaireResponse to the spine pain NRS, as another system would send it."""
    box = "https://regenpath.org/fhir/CodeSystem/nrs-spine-answer"
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "https://regenpath.org/fhir/Questionnaire/nrs-spine",
        "status": "completed",
        "subject": {"reference": f"Patient/{patient_id}"},
        "authored": authored,
        "item": [
            {"linkId": "back", "answer": [{"valueCoding": {"system": box, "code": str(back)}}]},
            {"linkId": "leg", "answer": [{"valueCoding": {"system": box, "code": str(leg)}}]},
        ],
    }
