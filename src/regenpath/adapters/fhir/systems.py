"""Code systems and identifier systems, by URI: a code is matched by system and code, never by
its display text (DESIGN.md section 4)."""

from __future__ import annotations

from typing import Final
from uuid import UUID

LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
ICD10CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM: Final = "http://unitsofmeasure.org"
# HL7's OID registry: 2.16.840.1.113883.6.18 is ISBT 128 (ICCBBA), the DIN's issuing system.
ISBT128: Final = "urn:oid:2.16.840.1.113883.6.18"
V2_IDENTIFIER_TYPE: Final = "http://terminology.hl7.org/CodeSystem/v2-0203"
CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
CONSENT_SCOPE: Final = "http://terminology.hl7.org/CodeSystem/consentscope"
ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
AE_SERIOUSNESS: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_SEVERITY: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_OUTCOME: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
AE_CAUSALITY: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-causality-assess"

# regenpath's own canonical base: the codes it owns (instruments, scores, guidance, product
# types, adverse-event terms) have no published code system.
BASE: Final = "https://regenpath.org/fhir"


def own(name: str) -> str:
    """The URI of one of regenpath's code systems."""
    return f"{BASE}/CodeSystem/{name}"


def extension(name: str) -> str:
    return f"{BASE}/StructureDefinition/{name}"


def questionnaire_url(instrument: str) -> str:
    return f"{BASE}/Questionnaire/{instrument}"


def mrn_system(clinic_id: UUID) -> str:
    """Medical record numbers are unique within one clinic, so each clinic has its system."""
    return f"{BASE}/sid/clinic/{clinic_id}/mrn"


SCORE: Final = own("score")
INSTRUMENT: Final = own("instrument")
PROCEDURE: Final = own("procedure")
GUIDANCE: Final = own("guidance")
HARVEST_SITE: Final = own("harvest-site")
LATERALITY: Final = own("laterality")
PRODUCT_TYPE: Final = own("product-type")
PRODUCT_STATUS: Final = own("product-status")
AE_TERM: Final = own("adverse-event-term")
CTCAE_GRADE: Final = own("ctcae-grade")

TIME_ZONE: Final = extension("time-zone")
LATERALITY_EXTENSION: Final = extension("laterality")
GUIDANCE_EXTENSION: Final = extension("guidance")
INTENDED_USE: Final = extension("intended-use")
CTCAE_GRADE_EXTENSION: Final = extension("ctcae-grade")
