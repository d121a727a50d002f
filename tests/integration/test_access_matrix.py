"""Every route, as every persona: each role of clinic A, a physician of clinic B, anonymous.

The expected answer comes from the route's declared permission and the permission table:
anonymous -> 401 (API) or the sign-in page (pages); a role the table does not allow -> 403;
a record of another clinic (or another user's token) -> 404; otherwise the request reaches
the route. The patient portal's pages answer 401 to all of them: only a patient's own portal
session opens them (tests/integration/test_portal.py). A route that declares no permission
fails here, so none can slip in unguarded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from regenpath.bootstrap import Application
from regenpath.domain.access import STAGE_ROLES, Role, StaffMember
from regenpath.domain.pathway import Stage
from regenpath.entrypoints.app import create_app
from regenpath.entrypoints.deps import (
    ApiAccess,
    FhirAccess,
    PageAccess,
    Permission,
    PortalAccess,
    public,
)
from regenpath.services import identity
from tests.integration import pathway
from tests.integration.personas import make_clinic, make_user, sign_in, username_of

# Routes outside FastAPI's routing, public by design: the schema and the static files.
UNDECLARED_BY_DESIGN = {"/api/v1/openapi.json", "/static"}
RECORD_PARAMETERS = {"patient_id", "episode_id", "clinic_id", "product_id", "donor_id"}


@dataclass(frozen=True)
class Persona:
    name: str
    role: Role | None  # None: anonymous
    clinic: str  # "A" or "B"


PERSONAS = [Persona(f"{role.value} of A", role, "A") for role in Role] + [
    Persona("physician of B", Role.PHYSICIAN, "B"),
    Persona("anonymous", None, "-"),
]


def declared(route: APIRoute) -> Permission | str | None:
    """The route's access declaration: a Permission, "public", "portal" (a patient's own
    session), or None (undeclared)."""
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        for dependency in dependant.dependencies:
            if isinstance(dependency.call, ApiAccess | PageAccess):
                return dependency.call.permission
            if isinstance(dependency.call, PortalAccess):
                return "portal"
            if isinstance(dependency.call, FhirAccess):
                return "fhir"
            if dependency.call is public:
                return "public"
            pending.append(dependency)
    return None


def routes(application: Application) -> list[tuple[str, str, APIRoute]]:
    """(method, full path, route) of every route, through the routers' prefixes."""
    app = create_app(application)
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = context.path or ""
        if isinstance(route, APIRoute):
            found += [(method, path, route) for method in sorted(route.methods - {"HEAD"})]
        elif isinstance(route, Mount | Route):
            assert path in UNDECLARED_BY_DESIGN, f"{path}: declare who may use it"
    assert len(found) > 20, "the walk must reach the routers' routes"
    return found


def test_every_route_declares_who_may_use_it(application: Application) -> None:
    undeclared = [
        f"{method} {path}" for method, path, r in routes(application) if declared(r) is None
    ]
    assert undeclared == [], "give these routes an ApiAccess/PageAccess or public()"


def expected(
    persona: Persona, permission: Permission | str, method: str, path: str, api: bool
) -> str:
    if permission == "public":
        return "public"
    if permission == "portal":
        return "401"  # no staff credential opens a patient's portal
    assert isinstance(permission, Permission)
    if persona.role is None:
        return "sign-in" if not api and method == "GET" else "401"
    member = StaffMember(UUID(int=0), "x", "x", {UUID(int=1): persona.role})
    if not member.clinics_permitting(permission.action, permission.resource):
        return "403"
    if api and path.endswith("/transitions") and persona.clinic == "A":
        # The body asks for in_evaluation: whose step that is, STAGE_ROLES says.
        return "allow" if persona.role in STAGE_ROLES[Stage.IN_EVALUATION] else "403"
    if "{token_id}" in path and persona.name != "physician of A":
        return "404"  # someone else's token
    if any(f"{{{name}}}" in path for name in ("consent_id", "report_id", "visit_id")):
        return "404"  # the sample episode has none: permitted, then not found
    if persona.clinic != "A" and any(f"{{{p}}}" in path for p in RECORD_PARAMETERS):
        return "404"
    return "allow"


def observed(response: Any) -> str:
    status = response.status_code
    if status == 303 and response.headers["location"].startswith("/login"):
        return "sign-in"
    if status in (401, 403, 404):
        return str(status)
    return "5xx" if status >= 500 else "allow"


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.name)
def test_each_route_answers_each_persona_as_the_table_says(
    application: Application, client: TestClient, clinic, patient, episode, persona: Persona
) -> None:
    other = make_clinic(application, "Harbour Orthobiologics")
    to_revoke = {
        api: identity.create_token(
            application.unit_of_work(),
            application.clock,
            application.new_id,
            application.digest,
            username=username_of(clinic, Role.PHYSICIAN),
            name="to revoke",
        ).token.id
        for api in (True, False)
    }
    lab = client.as_role(Role.LAB_TECHNICIAN)  # type: ignore[attr-defined]
    donor = client.post("/api/v1/donors", json=DONOR | {"clinic_id": clinic["id"]}, headers=lab)
    assert donor.status_code == 201, donor.text
    product = client.post(
        f"/api/v1/donors/{donor.json()['id']}/products",
        json={"product_type": "umbilical_cord_msc"},
        headers=lab,
    )
    assert product.status_code == 201, product.text
    samples = {
        "patient_id": patient["id"],
        "episode_id": episode["id"],
        "clinic_id": clinic["id"],
        "product_id": product.json()["id"],
        "donor_id": donor.json()["id"],
    }
    bodies = request_bodies(clinic, patient, episode)
    leaks = {clinic["id"], patient["id"], patient["mrn"], episode["id"]}
    with TestClient(create_app(application), base_url="https://testserver") as as_persona:
        if persona.role is not None:
            home = clinic if persona.clinic == "A" else other
            token = (
                client.tokens[persona.role]  # type: ignore[attr-defined]
                if persona.clinic == "A"
                else make_user(application, other, persona.role)
            )
            as_persona.headers["Authorization"] = f"Bearer {token}"
            as_persona.headers["X-CSRF-Token"] = sign_in(
                as_persona, username_of(home, persona.role)
            )
        mismatches = []
        checked = []
        for method, path, route in routes(application):
            permission = declared(route)
            assert permission is not None
            if path == "/logout":
                continue  # it would end this persona's session; test_authentication covers it
            if permission == "fhir":
                continue  # the type in the path picks the permission: test_fhir_api walks it
            api = path.startswith("/api/")
            values = samples | {
                "token_id": str(to_revoke[api]),
                "consent_id": str(uuid4()),
                "report_id": str(uuid4()),
                "visit_id": str(uuid4()),
                "code": "rmdq",
            }
            url = path.format(**{name: values[name] for name in route.param_convertors})
            body = bodies.get((method, path), {})
            response = as_persona.request(
                method,
                url,
                follow_redirects=False,
                **({"json": body} if api else {"data": body}),
            )
            want = expected(persona, permission, method, path, api)
            got = observed(response)
            checked.append((path, want, got))
            if got == "5xx" or (want != "public" and got != want):
                mismatches.append(f"{method} {path}: expected {want}, got {response.status_code}")
            if persona.clinic == "B" and response.status_code < 300:
                leaked = [value for value in leaks if value in response.text]
                if leaked:
                    mismatches.append(f"{method} {path}: clinic A's {leaked} shown to clinic B")
    print(persona.name, checked)
    assert mismatches == []


DONOR = {
    "code": "DNR-MATRIX-1",
    "tissue": "umbilical_cord",
    "living": False,
    "recovered_at": "2026-03-01T09:00:00+00:00",
    "screening": "no_risk_factors",
}


def request_bodies(
    clinic: dict[str, Any], patient: dict[str, Any], episode: dict[str, Any]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Valid bodies, so a request gets past validation to the check that matters."""
    return {
        ("POST", "/api/v1/patients"): {
            "clinic_id": clinic["id"],
            "mrn": "RS-MATRIX",
            "family_name": "Matrix",
            "given_name": "Test",
            "birth_date": "1970-01-01",
            "sex": "female",
        },
        ("PATCH", "/api/v1/patients/{patient_id}"): {"version": 1, "phone": "555-0100"},
        ("POST", "/api/v1/instruments/{code}/score"): {"answers": {}},
        ("POST", "/api/v1/follow-up/visits/{visit_id}/responses"): {
            "instrument": "rmdq",
            "answers": {},
        },
        ("POST", "/api/v1/episodes"): {
            "patient_id": patient["id"],
            "condition_code": "M51.36",
            "condition_text": "Disc",
            "target_site": "L4-L5",
        },
        ("POST", "/api/v1/episodes/{episode_id}/bedside-verifications"): {
            "scanned_din": "W999926000001",
            "wristband_mrn": patient["mrn"],
            "wristband_birth_date": patient["birth_date"],
            "method": "barcode_scan",
        },
        ("POST", "/api/v1/episodes/{episode_id}/harvest"): pathway.HARVEST
        | {"version": 1, "started_at": pathway.at(-30), "ended_at": pathway.at()},
        ("POST", "/api/v1/episodes/{episode_id}/injection"): pathway.INJECTION
        | {"version": 1, "started_at": pathway.at(-30), "ended_at": pathway.at()},
        ("POST", "/api/v1/products/{product_id}/custody-events"): {
            "kind": "moved",
            "to_party": "Lab",
            "location": "Freezer 2",
            "occurred_at": pathway.at(),
        },
        ("POST", "/api/v1/episodes/{episode_id}/transitions"): {
            "to": "in_evaluation",
            "version": 1,
        },
        ("POST", "/api/v1/episodes/{episode_id}/close"): {"version": 1, "password": "wrong"},
        ("POST", "/episodes/{episode_id}/transitions"): {"to": "in_evaluation", "version": "1"},
        ("POST", "/patients/{patient_id}/portal-link"): {"episode_id": episode["id"]},
        ("POST", "/api/v1/patient-reports/{report_id}/dismissal"): {"note": "Bruise"},
        ("POST", "/patient-reports/{report_id}/dismissal"): {
            "episode_id": episode["id"],
            "note": "Bruise",
        },
        ("POST", "/episodes/{episode_id}/close"): {"version": "1", "password": "wrong"},
        ("POST", "/api/v1/episodes/{episode_id}/assessments"): pathway.ELIGIBLE_SPINE,
        ("POST", "/api/v1/episodes/{episode_id}/eligibility/decision"): {
            "version": 1,
            "decision": "accept",
        },
        ("POST", "/api/v1/eligibility/evaluate"): {"region": "knee"},
        ("POST", "/api/v1/episodes/{episode_id}/plans"): pathway.PLAN,
        ("POST", "/api/v1/deviations"): {
            "clinic_id": clinic["id"],
            "description": "matrix",
            "distributed": False,
        },
        ("POST", "/api/v1/episodes/{episode_id}/adverse-events"): {
            "term_code": "POST_FLARE",
            "onset_on": "2026-03-02",
            "grade": 1,
            "outcome": "recovered",
        },
        ("POST", "/api/v1/reports/{report_id}/submission"): {
            "submitted_on": "2026-03-02",
            "reference": "matrix",
        },
        ("POST", "/api/v1/episodes/{episode_id}/consents/{consent_id}/withdraw"): {
            "reason": "matrix"
        },
        ("POST", "/api/v1/episodes/{episode_id}/consents"): {
            "version": 1,
            "document_hash": "0" * 64,
            "signed_name": "Avery Hale",
            "agreed": True,
        },
        ("POST", "/episodes/{episode_id}/harvest"): {"version": "1"},
        ("POST", "/episodes/{episode_id}/consent/{consent_id}/withdraw"): {"reason": "matrix"},
        ("POST", "/reports/{report_id}/submission"): {
            "submitted_on": "2026-03-02",
            "reference": "matrix",
        },
        ("POST", "/episodes/{episode_id}/injection"): {"version": "1"},
        ("POST", "/patients/{patient_id}/episodes"): {
            "condition_code": "M51.36",
            "condition_text": "Disc",
            "target_site": "L4-L5",
        },
        ("POST", "/account/tokens"): {"name": "matrix"},
        ("POST", "/api/v1/tokens"): {"name": "matrix"},
    }
