"""The server's CapabilityStatement (``GET /metadata``), built from the same tables the server
runs on, so it cannot promise a search parameter the search does not understand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from regenpath.adapters.fhir import mapping, search
from regenpath.adapters.fhir.server import GUARDS, WRITABLE


def capability_statement(version: str, published: datetime) -> dict[str, Any]:
    resources = []
    for resource_type in GUARDS:
        interactions = ["read", "search-type"]
        if resource_type in WRITABLE:
            interactions += ["create", "update"]
        params = search.PARAMS.get(resource_type, {})
        entry: dict[str, Any] = {
            "type": resource_type,
            "interaction": [{"code": code} for code in interactions],
            "versioning": "no-version",
            "readHistory": False,
            "updateCreate": resource_type in WRITABLE,
            "searchInclude": [
                f"{resource_type}:{name}"
                for name, param in params.items()
                if param.kind == "reference"
            ],
            "searchParam": [{"name": name, "type": param.kind} for name, param in params.items()]
            + [
                {"name": "_id", "type": "token"},
                {"name": "_lastUpdated", "type": "date"},
            ],
        }
        if resource_type == "Patient":
            entry["operation"] = [
                {
                    "name": "export",
                    "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
                }
            ]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "id": "regenpath",
        "url": "https://regenpath.org/fhir/CapabilityStatement/regenpath",
        "version": version,
        "name": "Regenpath",
        "title": "regenpath FHIR R4 facade",
        "status": "active",
        "date": mapping.instant(published),
        "publisher": "regenpath",
        "kind": "instance",
        "software": {"name": "regenpath", "version": version},
        "implementation": {"description": "The orthobiologic care pathway as FHIR R4"},
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Bearer API tokens (regenpath token create); every read and write is"
                    " scoped to the caller's clinics and recorded in the audit trail."
                ),
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "OAuth",
                                }
                            ],
                            "text": "Bearer tokens issued by regenpath",
                        }
                    ]
                },
                "resource": resources,
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                    },
                    {
                        "name": "import",
                        "definition": "https://regenpath.org/fhir/OperationDefinition/import",
                    },
                ],
            }
        ],
    }
