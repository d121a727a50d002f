"""HL7 FHIR R4 over HTTP at ``/fhir/R4``: the CapabilityStatement, read, search, create and
update, and Bulk Data export and import. Errors are OperationOutcomes (api/problems.py).

Bodies are taken as ``application/fhir+json`` or ``application/json`` (fhirpy writes with the
latter, the FHIR R4 specification); answers are ``application/fhir+json``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from fastapi.responses import JSONResponse

from regenpath import __version__
from regenpath.adapters.fhir import search
from regenpath.adapters.fhir.capability import capability_statement
from regenpath.adapters.fhir.server import Bundle, FhirServer, Resource, iter_lines
from regenpath.adapters.fhir.validation import FhirError, parse
from regenpath.bootstrap import Application
from regenpath.domain.access import Action
from regenpath.domain.access import Resource as Guarded
from regenpath.entrypoints.deps import AppDep, FhirAccess, public
from regenpath.services.ports import AccessScope, ExportJob, UnitOfWork

FHIR_JSON = "application/fhir+json"
BASE = "/fhir/R4"
_JSON_TYPES = ("application/fhir+json", "application/json", "application/json-patch+json")

router = APIRouter(prefix=BASE, tags=["fhir"], include_in_schema=False)

Reads = Annotated[UnitOfWork, Depends(FhirAccess(Action.READ))]
Creates = Annotated[UnitOfWork, Depends(FhirAccess(Action.CREATE))]
Updates = Annotated[UnitOfWork, Depends(FhirAccess(Action.UPDATE))]
Exports = Annotated[UnitOfWork, Depends(FhirAccess(Action.READ, Guarded.BULK_DATA))]
Imports = Annotated[UnitOfWork, Depends(FhirAccess(Action.CREATE, Guarded.BULK_DATA))]


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + BASE


def _server(application: Application) -> FhirServer:
    return application.fhir


async def _body(request: Request) -> Resource:
    kind = request.headers.get("content-type", "application/fhir+json").split(";")[0].strip()
    if kind not in _JSON_TYPES:
        raise FhirError.one(
            415, "not-supported", f"send {FHIR_JSON} or application/json, not {kind}"
        )
    return parse(await request.body())


@router.get("/metadata", dependencies=[Depends(public)])
def metadata(application: AppDep) -> FhirResponse:
    """What this server does: the resources, interactions and search parameters."""
    return FhirResponse(capability_statement(__version__, application.clock.now()))


# ---------------------------------------------------------------------- bulk data


def _since(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        return search.date_range(raw)[0]
    except ValueError:
        raise FhirError.one(
            400, "value", f"_since must be a FHIR instant, not {raw!r}", "_since"
        ) from None


def _kick_off(
    request: Request,
    application: Application,
    uow: UnitOfWork,
    tasks: BackgroundTasks,
    level: str,
    group_id: UUID | None = None,
) -> Response:
    """Bulk Data kick-off: 202 Accepted and where to poll (Content-Location)."""
    params = request.query_params
    output = params.get("_outputFormat", "application/fhir+ndjson")
    if output not in ("application/fhir+ndjson", "application/ndjson", "ndjson"):
        raise FhirError.one(
            400, "not-supported", f"_outputFormat {output} is not offered", "_outputFormat"
        )
    server = _server(application)
    types = server.export_types(level, params.get("_type"))
    job = server.start_export(
        uow, level, types, _since(params.get("_since")), str(request.url), group_id
    )

    def scoped(for_job: ExportJob) -> UnitOfWork:
        return application.unit_of_work(
            AccessScope(clinic_ids=frozenset(for_job.clinic_ids), actor=for_job.requested_by)
        )

    tasks.add_task(server.run_export, scoped, job)
    return Response(
        status_code=202,
        headers={"Content-Location": f"{base_url(request)}/$export-status/{job.id}"},
    )


@router.get("/$export")
def export_system(
    request: Request, application: AppDep, uow: Exports, tasks: BackgroundTasks
) -> Response:
    """System-level export: every clinic the caller may export."""
    return _kick_off(request, application, uow, tasks, "system")


@router.get("/Patient/$export")
def export_patients(
    request: Request, application: AppDep, uow: Exports, tasks: BackgroundTasks
) -> Response:
    """Patient-level export: the Patient compartment of every patient of the caller's clinics."""
    return _kick_off(request, application, uow, tasks, "patient")


@router.get("/Group/{group_id}/$export")
def export_group(
    group_id: UUID, request: Request, application: AppDep, uow: Exports, tasks: BackgroundTasks
) -> Response:
    """Group-level export, a Group being a clinic (its id is the clinic's)."""
    return _kick_off(request, application, uow, tasks, "group", group_id)


@router.get("/$export-status/{job_id}")
def export_status(job_id: UUID, request: Request, application: AppDep, uow: Exports) -> Response:
    job, files = _server(application).export_job(uow, job_id)
    if job.status in ("accepted", "in-progress"):
        return Response(status_code=202, headers={"X-Progress": job.status, "Retry-After": "1"})
    if job.status == "failed":
        raise FhirError.one(500, "exception", f"the export failed: {job.error}")
    return JSONResponse(
        {
            "transactionTime": (job.finished_at or job.requested_at).isoformat(),
            "request": job.request_url,
            "requiresAccessToken": True,
            "output": [
                {
                    "type": name,
                    "url": f"{base_url(request)}/$export-file/{job.id}/{name}.ndjson",
                    "count": count,
                }
                for name, count in files
            ],
            "error": [],
        }
    )


@router.get("/$export-file/{job_id}/{file_name}")
def export_file(job_id: UUID, file_name: str, application: AppDep, uow: Exports) -> Response:
    resource_type = file_name.removesuffix(".ndjson")
    found = _server(application).export_file(uow, job_id, resource_type)
    return Response(found.content, media_type="application/fhir+ndjson")


@router.post("/$import")
async def import_ndjson(request: Request, application: AppDep, uow: Imports) -> FhirResponse:
    """regenpath's NDJSON import: one file per request, validated, resolved and written in one
    transaction (an error anywhere leaves nothing of it); importing it again changes nothing."""
    text = (await request.body()).decode("utf-8", errors="replace")
    source = request.query_params.get("source", "api upload")
    result = _server(application).import_resources(uow, iter_lines(text), None, source)
    return FhirResponse(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "information",
                    "code": "informational",
                    "diagnostics": (
                        f"{sum(result.added.values())} added, {sum(result.changed.values())}"
                        f" changed, {sum(result.unchanged.values())} unchanged"
                    ),
                }
            ],
        }
    )


# ------------------------------------------------------------------------- REST


@router.get("/{resource_type}")
def search_type(
    resource_type: str, request: Request, application: AppDep, uow: Reads
) -> FhirResponse:
    query = list(request.query_params.multi_items())
    bundle = _server(application).search(uow, resource_type, query)
    return FhirResponse(searchset(request, resource_type, query, bundle))


@router.get("/{resource_type}/{resource_id}")
def read(resource_type: str, resource_id: str, application: AppDep, uow: Reads) -> FhirResponse:
    found = _server(application).read(uow, resource_type, resource_id)
    return FhirResponse(found, headers=_version_headers(found))


@router.post("/{resource_type}")
async def create(
    resource_type: str, request: Request, application: AppDep, uow: Creates
) -> FhirResponse:
    """Create; the server names the new resource (an id in the body is not kept)."""
    body = await _body(request)
    created = _server(application).create(uow, resource_type, body)
    location = f"{base_url(request)}/{resource_type}/{created['id']}"
    return FhirResponse(
        created, status_code=201, headers={"Location": location} | _version_headers(created)
    )


@router.put("/{resource_type}/{resource_id}")
async def update(
    resource_type: str, resource_id: str, request: Request, application: AppDep, uow: Updates
) -> FhirResponse:
    body = await _body(request)
    found, created = _server(application).update(
        uow, resource_type, resource_id, body, request.headers.get("If-Match")
    )
    headers = _version_headers(found)
    if created:
        headers["Location"] = f"{base_url(request)}/{resource_type}/{resource_id}"
    return FhirResponse(found, status_code=201 if created else 200, headers=headers)


@router.patch("/{resource_type}/{resource_id}")
def patch(resource_type: str, resource_id: str, uow: Updates) -> Response:
    """PATCH is not offered: fhirpy's ``save(fields=...)`` gets a clear answer to use PUT."""
    raise FhirError.one(405, "not-supported", "PATCH is not supported here: PUT the whole resource")


@router.delete("/{resource_type}/{resource_id}")
def delete(resource_type: str, resource_id: str, uow: Updates) -> Response:
    """Clinical records are corrected, never deleted (21 CFR 1271.270 keeps them 10 years)."""
    raise FhirError.one(405, "not-supported", "records are not deleted here; correct them instead")


def _version_headers(resource: Resource) -> dict[str, str]:
    meta = resource.get("meta", {})
    headers = {}
    if "versionId" in meta:
        headers["ETag"] = f'W/"{meta["versionId"]}"'
    return headers


def searchset(
    request: Request, resource_type: str, query: list[tuple[str, str]], bundle: Bundle
) -> Resource:
    """A searchset Bundle with ``total`` and absolute ``self``/``next`` links (fhirclient
    refuses relative ones, the FHIR R4 specification)."""
    base = base_url(request)

    def link(offset: int) -> str:
        kept = [(k, v) for k, v in query if k != "_offset"]
        kept.append(("_offset", str(offset)))
        return f"{base}/{resource_type}?{urlencode(kept)}"

    links = [{"relation": "self", "url": link(bundle.offset)}]
    if bundle.count and bundle.offset + bundle.count < bundle.total:
        links.append({"relation": "next", "url": link(bundle.offset + bundle.count)})
    if bundle.offset > 0:
        links.append({"relation": "previous", "url": link(max(0, bundle.offset - bundle.count))})
    entries = [
        {
            "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": mode},
        }
        for mode, group in (("match", bundle.matches), ("include", bundle.included))
        for r in group
    ]
    found: Resource = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": bundle.total,
        "link": links,
    }
    if entries:
        found["entry"] = entries
    return found
