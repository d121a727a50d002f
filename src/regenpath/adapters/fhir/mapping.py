"""The pathway's records as FHIR R4 resources: pure functions, domain objects in, dicts out.

Codes go by system (:mod:`regenpath.adapters.fhir.systems`). Identifiers are the records' own
ids, so a resource read twice, or exported, imported elsewhere and exported again, is the
same resource. Timestamps are UTC to the second. Nothing here reads a clock or a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from regenpath.adapters.fhir import systems
from regenpath.domain.access import UserAccount
from regenpath.domain.consent import SignedConsent
from regenpath.domain.episodes import Episode
from regenpath.domain.followup import QuestionnaireResponse
from regenpath.domain.instruments import Instrument, Scoring
from regenpath.domain.patients import Clinic, Patient
from regenpath.domain.procedures import HarvestRecord, HarvestSource, InjectionRecord
from regenpath.domain.products import CellSource, Product, ProductStatus
from regenpath.domain.safety import AdverseEvent, AeOutcome, Relatedness

Resource = dict[str, Any]

# SNOMED CT laterality qualifiers (SNOMED International browser: 7771000 |Left|, 24028007
# |Right|, 51440002 |Right and left|); "midline" has no such qualifier, so it is regenpath's.
_SNOMED_LATERALITY = {"left": "7771000", "right": "24028007", "bilateral": "51440002"}

# HL7 adverse-event-outcome codes for the outcomes regenpath records (AE-1).
_AE_OUTCOME = {
    AeOutcome.RECOVERING: "recovering",
    AeOutcome.RECOVERED: "resolved",
    AeOutcome.RECOVERED_WITH_SEQUELAE: "resolvedWithSequelae",
    AeOutcome.NOT_RECOVERED: "ongoing",
    AeOutcome.FATAL: "fatal",
    AeOutcome.UNKNOWN: "unknown",
}
# WHO-UMC causality categories, as HL7's adverse-event-causality-assess names them (AE-3).
_CAUSALITY = {
    Relatedness.CERTAIN: "Certain",
    Relatedness.PROBABLE: "Probably-Likely",
    Relatedness.POSSIBLE: "Possible",
    Relatedness.UNLIKELY: "Unlikely",
    Relatedness.CONDITIONAL: "Conditional-Classified",
    Relatedness.UNASSESSABLE: "Unassessable-Unclassifiable",
}


def reference(resource_type: str, resource_id: UUID | str) -> dict[str, str]:
    return {"reference": f"{resource_type}/{resource_id}"}


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"coding": [coding(system, code, display)]}


def instant(moment: datetime) -> str:
    """A FHIR instant in UTC to the second: the same record always prints the same text."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def day(value: date) -> str:
    return value.isoformat()


def _laterality(side: str) -> dict[str, Any]:
    code = _SNOMED_LATERALITY.get(side)
    value = concept(systems.SNOMED, code) if code else concept(systems.LATERALITY, side)
    value["text"] = side
    return {"url": systems.LATERALITY_EXTENSION, "valueCodeableConcept": value}


def _body_site(text: str, side: str) -> dict[str, Any]:
    return {"extension": [_laterality(side)], "text": text}


def organization(clinic: Clinic) -> Resource:
    resource: Resource = {
        "resourceType": "Organization",
        "id": str(clinic.id),
        "extension": [{"url": systems.TIME_ZONE, "valueString": clinic.time_zone}],
        "active": True,
        "name": clinic.name,
    }
    if clinic.phone:
        resource["telecom"] = [{"system": "phone", "value": clinic.phone, "use": "work"}]
    return resource


def practitioner(user: UserAccount) -> Resource:
    return {
        "resourceType": "Practitioner",
        "id": str(user.id),
        "active": user.active,
        "name": [{"text": user.display_name}],
    }


def patient(record: Patient, resource_id: str | None = None) -> Resource:
    """``resource_id``: the id a patient imported from elsewhere came with, if not ours."""
    resource: Resource = {
        "resourceType": "Patient",
        "id": resource_id or str(record.id),
        "identifier": [
            {
                "use": "usual",
                "type": concept(systems.V2_IDENTIFIER_TYPE, "MR"),
                "system": systems.mrn_system(record.clinic_id),
                "value": record.mrn,
            }
        ],
        # FHIR lists given names one by one; the record keeps them in one field.
        "name": [
            {"use": "official", "family": record.family_name, "given": record.given_name.split()}
        ],
        "gender": record.sex.value,
        "birthDate": day(record.birth_date),
        "managingOrganization": reference("Organization", record.clinic_id),
    }
    telecom = [
        {"system": kind, "value": value, "use": "home"}
        for kind, value in (("phone", record.phone), ("email", record.email))
        if value
    ]
    if telecom:
        resource["telecom"] = telecom
    return resource


# The elements of a Patient that regenpath keeps in its own record; an imported Patient's other
# elements (an address, say) are kept beside it and shown unchanged.
PATIENT_ELEMENTS = frozenset(
    {"id", "identifier", "name", "gender", "birthDate", "managingOrganization", "telecom"}
)


def condition(episode: Episode, patient_ref: str) -> Resource:
    return {
        "resourceType": "Condition",
        "id": str(episode.id),
        "clinicalStatus": concept(
            systems.CONDITION_CLINICAL, "resolved" if episode.closed_at else "active"
        ),
        "verificationStatus": concept(systems.CONDITION_VERIFICATION, "confirmed"),
        "category": [concept(systems.CONDITION_CATEGORY, "problem-list-item")],
        "code": {
            "coding": [coding(systems.ICD10CM, episode.condition_code)],
            "text": episode.condition_text,
        },
        "bodySite": [_body_site(episode.target_site, episode.laterality.value)],
        "subject": {"reference": patient_ref},
        "recordedDate": instant(episode.opened_at),
    }


def harvest_procedure(harvest: HarvestRecord, episode: Episode, patient_ref: str) -> Resource:
    code = (
        "bone-marrow-aspiration"
        if harvest.source is HarvestSource.BONE_MARROW
        else "adipose-tissue-harvest"
    )
    resource: Resource = {
        "resourceType": "Procedure",
        "id": str(harvest.id),
        "status": "completed",
        "category": concept(systems.PROCEDURE, "cell-harvest"),
        "code": concept(systems.PROCEDURE, code),
        "subject": {"reference": patient_ref},
        "performedPeriod": {"start": instant(harvest.started_at), "end": instant(harvest.ended_at)},
        "performer": [{"actor": {"display": harvest.operator}}],
        "reasonReference": [reference("Condition", episode.id)],
        "bodySite": [
            {
                "extension": [_laterality(harvest.side.value)],
                "coding": [coding(systems.HARVEST_SITE, harvest.site.value)],
                "text": harvest.site.value.replace("_", " "),
            }
        ],
        "note": [{"text": f"{harvest.volume_ml:g} mL harvested; cycle {harvest.cycle_number}"}],
    }
    if harvest.complications:
        resource["complication"] = [{"text": harvest.complications}]
    return resource


def injection_procedure(injection: InjectionRecord, episode: Episode, patient_ref: str) -> Resource:
    sites = "; ".join(f"{site.volume_ml:g} mL at {site.target}" for site in injection.sites)
    return {
        "resourceType": "Procedure",
        "id": str(injection.id),
        "extension": [
            {
                "url": systems.GUIDANCE_EXTENSION,
                "valueCodeableConcept": concept(systems.GUIDANCE, injection.guidance.value),
            }
        ],
        "status": "completed",
        "category": concept(systems.PROCEDURE, "cell-administration"),
        "code": concept(systems.PROCEDURE, "image-guided-injection"),
        "subject": {"reference": patient_ref},
        "performedPeriod": {
            "start": instant(injection.started_at),
            "end": instant(injection.ended_at),
        },
        "performer": [{"actor": {"display": injection.operator}}],
        "reasonReference": [reference("Condition", episode.id)],
        "bodySite": [_body_site(site.target, site.laterality.value) for site in injection.sites],
        "usedReference": [reference("BiologicallyDerivedProduct", injection.product_id)],
        "note": [{"text": f"{sites}; approach {injection.approach.value}"}],
    }


def biologically_derived_product(product: Product, patient_ref: str | None) -> Resource:
    """ISBT-1: the DIN identifies the product; an autologous product carries "for autologous
    use only" (21 CFR 1271.90(c)(1)) and names the patient it came from."""
    identifiers = [{"system": systems.ISBT128, "value": product.din}]
    if product.lot_number:
        identifiers.append({"system": f"{systems.BASE}/sid/lot", "value": product.lot_number})
    resource: Resource = {
        "resourceType": "BiologicallyDerivedProduct",
        "id": str(product.id),
        "extension": [
            {
                "url": systems.extension("product-status"),
                "valueCodeableConcept": concept(systems.PRODUCT_STATUS, product.status.value),
            }
        ],
        "identifier": identifiers,
        "productCategory": "cells",
        "productCode": concept(systems.PRODUCT_TYPE, product.product_type.value),
        "status": "available" if product.status is ProductStatus.RELEASED else "unavailable",
        "quantity": 1,
        "collection": {"collectedDateTime": instant(product.collected_at)},
        "storage": [{"duration": {"end": instant(product.expires_at)}}],
    }
    if product.source is CellSource.AUTOLOGOUS:
        resource["extension"].append(
            {
                "url": systems.INTENDED_USE,
                "valueCodeableConcept": {
                    "coding": [coding(systems.own("intended-use"), "autologous-only")],
                    "text": "FOR AUTOLOGOUS USE ONLY",
                },
            }
        )
        if patient_ref:
            resource["collection"]["source"] = {"reference": patient_ref}
    if product.processing_finished_at:
        resource["processing"] = [
            {
                "description": "processed and tested by the clinic laboratory",
                "timeDateTime": instant(product.processing_finished_at),
            }
        ]
    if product.volume_ml is not None:
        resource["storage"][0]["description"] = f"{product.volume_ml:g} mL"
    return resource


def questionnaire(instrument: Instrument) -> Resource:
    """The instrument's definition. Licensed item text the clinic has not loaded stays out."""
    items = []
    for item in instrument.items:
        entry: Resource = {"linkId": item.id, "type": "choice", "required": not item.optional}
        if item.text:
            entry["text"] = item.text
        entry["answerOption"] = [
            {"valueCoding": coding(systems.own(f"{instrument.code.value}-answer"), str(i), label)}
            for i, label in enumerate(item.options)
        ]
        items.append(entry)
    resource: Resource = {
        "resourceType": "Questionnaire",
        "id": instrument.code.value,
        "url": systems.questionnaire_url(instrument.code.value),
        "version": instrument.version,
        "name": instrument.code.value.replace("-", "_").upper(),
        "title": instrument.title,
        "status": "active",
        "copyright": instrument.licence,
        "item": items,
    }
    if instrument.loinc:
        resource["code"] = [coding(systems.LOINC, instrument.loinc)]
    return resource


def questionnaire_response(response: QuestionnaireResponse, patient_ref: str) -> Resource:
    answer_system = systems.own(f"{response.instrument}-answer")
    resource: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": str(response.id),
        "questionnaire": systems.questionnaire_url(response.instrument),
        "status": "completed" if response.completed_at else "in-progress",
        "subject": {"reference": patient_ref},
        "authored": instant(response.completed_at or response.updated_at),
        "item": [
            {"linkId": link, "answer": [{"valueCoding": coding(answer_system, str(value))}]}
            for link, value in sorted(response.answers.items())
        ],
    }
    if response.entered_by == "patient":
        resource["source"] = {"reference": patient_ref}
    return resource


def score_code(instrument: Instrument, name: str) -> list[dict[str, str]]:
    """LOINC where the instrument names one (NRS 72514-3, ODI 97909-6), then regenpath's own."""
    codes = []
    if instrument.scoring is Scoring.EACH_ITEM:
        loinc = next((i.loinc for i in instrument.items if i.id == name), None)
    else:
        loinc = instrument.score_loinc
    if loinc:
        codes.append(coding(systems.LOINC, loinc))
    codes.append(coding(systems.SCORE, f"{instrument.code.value}-{name}"))
    return codes


def score_observations(
    response_id: str,
    instrument: Instrument,
    scores: Mapping[str, float | None],
    effective: str,
    patient_ref: str,
) -> list[Resource]:
    """One Observation per score, derived from the response it was computed from; a score the
    rules could not compute (too few items) is not an observation."""
    observations = []
    for name in instrument.score_names:
        value = scores.get(name)
        if value is None:
            continue
        observations.append(
            {
                "resourceType": "Observation",
                "id": f"{response_id}-{name}"[:64],
                "status": "final",
                "category": [concept(systems.OBSERVATION_CATEGORY, "survey")],
                "code": {"coding": score_code(instrument, name)},
                "subject": {"reference": patient_ref},
                "effectiveDateTime": effective,
                "valueQuantity": {
                    "value": round(value, 2),
                    "unit": "{score}",
                    "system": systems.UCUM,
                    "code": "{score}",
                },
                "derivedFrom": [reference("QuestionnaireResponse", response_id)],
            }
        )
    return observations


def adverse_event(
    event: AdverseEvent,
    patient_ref: str,
    harvest_ids: tuple[UUID, ...] = (),
    injection_ids: tuple[UUID, ...] = (),
) -> Resource:
    """AE-1..3: the CTCAE grade, each seriousness criterion, causality judged per suspect."""
    severity = "mild" if event.grade == 1 else "moderate" if event.grade == 2 else "severe"
    suspects = []
    for relatedness, kind, ids in (
        (event.related_harvest, "Procedure", harvest_ids),
        (event.related_product, "BiologicallyDerivedProduct", event.product_ids),
        (event.related_injection, "Procedure", injection_ids),
    ):
        for suspect in ids:
            entry: Resource = {"instance": reference(kind, suspect)}
            if relatedness is not None:
                entry["causality"] = [
                    {"assessment": concept(systems.AE_CAUSALITY, _CAUSALITY[relatedness])}
                ]
            suspects.append(entry)
    resource: Resource = {
        "resourceType": "AdverseEvent",
        "id": str(event.id),
        "extension": [
            {
                "url": systems.CTCAE_GRADE_EXTENSION,
                "valueCodeableConcept": concept(systems.CTCAE_GRADE, str(event.grade)),
            }
        ],
        "actuality": "actual",
        "event": {"coding": [coding(systems.AE_TERM, event.term.code)], "text": event.term.label},
        "subject": {"reference": patient_ref},
        "date": day(event.onset_on),
        "detected": instant(event.discovered_at),
        "seriousness": concept(
            systems.AE_SERIOUSNESS, "serious" if event.seriousness else "non-serious"
        ),
        "severity": concept(systems.AE_SEVERITY, severity),
        "outcome": concept(systems.AE_OUTCOME, _AE_OUTCOME[event.outcome]),
        "recorder": {"display": event.recorded_by},
    }
    if suspects:
        resource["suspectEntity"] = suspects
    return resource


def consent(record: SignedConsent, patient_ref: str) -> Resource:
    """The signed informed consent (docs/rules.md CON-*); withdrawn consent is inactive."""
    return {
        "resourceType": "Consent",
        "id": str(record.id),
        "status": "inactive" if record.withdrawn_at else "active",
        "scope": concept(systems.CONSENT_SCOPE, "treatment"),
        "category": [concept(systems.LOINC, "59284-0")],
        "patient": {"reference": patient_ref},
        "dateTime": instant(record.signed_at),
        "organization": [reference("Organization", record.clinic_id)],
        "policyRule": concept(systems.ACT_CODE, "OPTIN"),
        "provision": {
            "type": "permit",
            "data": [
                {"meaning": "related", "reference": reference("Condition", record.episode_id)}
            ],
        },
    }
