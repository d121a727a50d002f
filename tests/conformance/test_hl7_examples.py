"""The official HL7 FHIR R4 examples (npm ``hl7.fhir.r4.examples`` 4.0.1, CC0) against the
validator every incoming resource goes through (adapters/fhir/validation.py).

The package is fetched at test time with ``npm pack`` into ``.cache/`` (git-ignored, never
committed) and read from its tarball. fhir.md section 3: every Patient, Observation,
Condition and Procedure example is valid; ``Questionnaire-qs1.json`` is not (items without a
``linkId``)."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from regenpath.adapters.fhir.validation import FhirError, validate

PACKAGE = "hl7.fhir.r4.examples@4.0.1"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "fhir-examples"
TYPES = ("Patient", "Observation", "Condition", "Procedure")


@pytest.fixture(scope="session")
def examples() -> dict[str, dict[str, object]]:
    CACHE.mkdir(parents=True, exist_ok=True)
    tarballs = sorted(CACHE.glob("hl7.fhir.r4.examples-*.tgz"))
    if not tarballs:
        subprocess.run(
            ["npm", "pack", PACKAGE, "--silent", "--pack-destination", str(CACHE)],
            check=True,
            capture_output=True,
            timeout=600,
        )
        tarballs = sorted(CACHE.glob("hl7.fhir.r4.examples-*.tgz"))
    found: dict[str, dict[str, object]] = {}
    with tarfile.open(tarballs[-1]) as archive:
        for member in archive.getmembers():
            name = member.name.removeprefix("package/")
            wanted = name.split("-")[0] in TYPES or name == "Questionnaire-qs1.json"
            if wanted and name.endswith(".json") and "/" not in name:
                handle = archive.extractfile(member)
                assert handle is not None
                found[name] = json.load(handle)
    return found


def test_every_patient_observation_condition_and_procedure_example_is_accepted(
    examples: dict[str, dict[str, object]],
) -> None:
    checked = dict.fromkeys(TYPES, 0)
    refused = []
    for name, resource in sorted(examples.items()):
        resource_type = name.split("-")[0]
        if resource_type not in TYPES:
            continue
        try:
            validate(resource, resource_type)
        except FhirError as error:
            refused.append(f"{name}: {error}")
        checked[resource_type] += 1
    assert refused == []
    # fhir.md section 1: 22 Patient, 64 Observation, 12 Condition, 16 Procedure examples.
    assert checked == {"Patient": 22, "Observation": 64, "Condition": 12, "Procedure": 16}


def test_questionnaire_qs1_is_rejected_naming_the_element(
    examples: dict[str, dict[str, object]],
) -> None:
    with pytest.raises(FhirError) as refused:
        validate(examples["Questionnaire-qs1.json"], "Questionnaire")
    assert refused.value.status == 422
    assert any("linkId" in (issue.expression or "") for issue in refused.value.issues)
