"""RFC 9457 problem details: every API error is ``application/problem+json`` naming its field."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from regenpath.adapters.fhir.validation import FhirError, Issue
from regenpath.domain.errors import Guard, InvalidValue, TransitionRefused
from regenpath.entrypoints.web.rendering import page_error
from regenpath.services.errors import (
    DuplicateValue,
    InvalidReference,
    LockedOut,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ProbableDuplicate,
    StaleVersion,
    WrongPassword,
)

PROBLEM_JSON = "application/problem+json"
FHIR_PATH = "/fhir/"
# FHIR R4 issue-type codes for the statuses the facade answers with.
_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "conflict",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
    500: "exception",
}
logger = logging.getLogger(__name__)

# Guards that refuse because the request lacks something, rather than because of the state
# the episode is in: the caller fixes these by sending the field, so they are 422, not 409.
_MISSING_INPUT: dict[Guard, str] = {
    Guard.REASON_REQUIRED: "reason",
    Guard.CELL_SOURCE_REQUIRED: "cell_source",
}


def problem(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:regenpath:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    body.update(extensions)
    if request.url.path.startswith(FHIR_PATH):
        field = extensions.get("field")
        return operation_outcome(
            status, [Issue(_ISSUE_CODES.get(status, "processing"), detail, field)]
        )
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def operation_outcome(status: int, issues: list[Issue]) -> JSONResponse:
    """A FHIR error: an OperationOutcome naming each element at fault (FHIRPath)."""
    body = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": issue.severity,
                "code": issue.code,
                "diagnostics": issue.diagnostics,
                **({"expression": [issue.expression]} if issue.expression else {}),
            }
            for issue in issues
        ],
    }
    return JSONResponse(body, status_code=status, media_type="application/fhir+json")


def _is_page(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(("/api/", FHIR_PATH))


def _field_of(location: tuple[Any, ...]) -> str:
    # FastAPI locations look like ("body", "birth_date") or ("query", "stage"); the caller
    # wants the field, and "body" alone when the body itself is missing or not JSON.
    parts = [str(part) for part in location[1:] if not isinstance(part, int)] or [str(location[0])]
    return ".".join(parts)


def install(app: FastAPI) -> None:
    """Register the handlers that turn each error into a problem document."""

    @app.exception_handler(FhirError)
    async def fhir_error(request: Request, error: FhirError) -> JSONResponse:
        return operation_outcome(error.status, error.issues)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": _field_of(tuple(item.get("loc", ()))),
                "location": str(item.get("loc", ("body",))[0]),
                "message": str(item.get("msg", "invalid")),
            }
            for item in error.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(
            request,
            422,
            "invalid-request",
            "The request is not valid",
            detail,
            field=errors[0]["field"] if errors else None,
            errors=errors,
        )

    @app.exception_handler(TransitionRefused)
    async def transition_refused(request: Request, error: TransitionRefused) -> JSONResponse:
        field = _MISSING_INPUT.get(error.guard, "to")
        return problem(
            request,
            422 if error.guard in _MISSING_INPUT else 409,
            "transition-refused",
            "The transition was refused",
            error.failures[0].message,
            guard=error.guard.value,
            field=field,
            guards=[{"guard": f.guard.value, "message": f.message} for f in error.failures],
        )

    @app.exception_handler(InvalidValue)
    async def invalid_value(request: Request, error: InvalidValue) -> Response:
        if _is_page(request):
            return page_error(request, 422, f"{error.message}.")
        return problem(
            request, 422, "invalid-value", "A value is not valid", error.message, field=error.field
        )

    @app.exception_handler(InvalidReference)
    async def invalid_reference(request: Request, error: InvalidReference) -> Response:
        if _is_page(request):
            return page_error(request, 422, f"{error.message}.")
        return problem(
            request,
            422,
            "invalid-reference",
            "A reference is not valid",
            error.message,
            field=error.field,
        )

    @app.exception_handler(ProbableDuplicate)
    async def look_alike(request: Request, error: ProbableDuplicate) -> JSONResponse:
        return problem(
            request,
            409,
            "probable-duplicate",
            "This patient is probably registered already",
            error.message,
            field=error.field,
            candidates=[
                {"id": str(pid), "mrn": mrn, "name": name} for pid, mrn, name in error.candidates
            ],
        )

    @app.exception_handler(DuplicateValue)
    async def duplicate(request: Request, error: DuplicateValue) -> JSONResponse:
        return problem(
            request,
            409,
            "duplicate",
            "The value is already in use",
            error.message,
            field=error.field,
        )

    @app.exception_handler(NotFound)
    async def not_found(request: Request, error: NotFound) -> Response:
        if _is_page(request):
            return page_error(request, 404, "Not found.")
        return problem(request, 404, "not-found", "Not found", str(error), resource=error.resource)

    @app.exception_handler(StaleVersion)
    async def stale(request: Request, error: StaleVersion) -> JSONResponse:
        return problem(
            request,
            409,
            "stale-version",
            "The record changed since you read it",
            str(error),
            field="version",
            current_version=error.actual,
        )

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, error: NotAuthenticated) -> JSONResponse:
        response = problem(request, 401, "not-authenticated", "Sign in first", error.message)
        response.headers["WWW-Authenticate"] = 'Bearer realm="regenpath"'
        return response

    @app.exception_handler(PermissionDenied)
    async def permission_denied(request: Request, error: PermissionDenied) -> Response:
        if _is_page(request):
            return page_error(request, 403, f"Not allowed: {error.message}.")
        return problem(request, 403, "forbidden", "Not allowed for your role", error.message)

    @app.exception_handler(WrongPassword)
    async def wrong_password(request: Request, error: WrongPassword) -> JSONResponse:
        return problem(
            request,
            422,
            "wrong-password",
            "The password is not right",
            error.message,
            field=error.field,
        )

    @app.exception_handler(LockedOut)
    async def locked_out(request: Request, error: LockedOut) -> JSONResponse:
        response = problem(request, 429, "locked-out", "Too many wrong passwords", str(error))
        response.headers["Retry-After"] = str(_seconds_until(error, request))
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem(
            request,
            error.status_code,
            "http-error",
            str(error.detail) if error.status_code != 404 else "Not found",
            str(error.detail),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s", request.url.path)
        return problem(
            request,
            500,
            "internal-error",
            "Something went wrong on our side",
            "The error was logged; nothing was half-written (the transaction rolled back).",
        )


def _seconds_until(error: LockedOut, request: Request) -> int:
    now = request.app.state.regenpath.clock.now()
    return max(1, int((error.until - now).total_seconds()))
