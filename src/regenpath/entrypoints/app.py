"""The ASGI application: the API under /api/v1, the web pages, /healthz."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from regenpath import __version__
from regenpath.bootstrap import Application, bootstrap
from regenpath.entrypoints import fhir_api, headers
from regenpath.entrypoints.api import problems
from regenpath.entrypoints.api.routers import (
    access,
    clinics,
    consent,
    eligibility,
    episodes,
    followup,
    outcomes,
    patients,
    products,
    safety,
)
from regenpath.entrypoints.api.security_schemas import problem_responses
from regenpath.entrypoints.deps import (
    SAFE_METHODS,
    AppDep,
    CsrfRejected,
    LoginRequired,
    PortalSignInRequired,
    public,
)
from regenpath.entrypoints.web import (
    account_pages,
    consent_pages,
    evaluation_pages,
    followup_pages,
    outcome_pages,
    oversight_pages,
    pages,
    portal_pages,
    prescreen_pages,
    procedure_pages,
    product_pages,
    safety_pages,
)
from regenpath.entrypoints.web.rendering import page_error

STATIC = Path(__file__).parent / "web" / "static"


def create_app(application: Application | None = None) -> FastAPI:
    """Build the app; tests pass their own Application (database, clock, ids)."""
    owned = application is None
    app_state = application or bootstrap()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            app_state.dispose()

    app = FastAPI(
        title="regenpath",
        version=__version__,
        summary="The orthobiologic therapy care pathway: episodes, products, outcomes.",
        openapi_url="/api/v1/openapi.json",
        # The bundled Swagger UI loads from a CDN and runs an inline script; neither is allowed
        # here (no CDN at run time, CSP without inline scripts). The schema itself is served.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.regenpath = app_state
    problems.install(app)
    headers.install(app)

    api = APIRouter(prefix="/api/v1", responses=problem_responses(401, 403, 404, 422))
    api.include_router(clinics.router)
    api.include_router(patients.router)
    api.include_router(episodes.router)
    api.include_router(access.router)
    api.include_router(products.router)
    api.include_router(eligibility.router)
    api.include_router(consent.router)
    api.include_router(safety.router)
    api.include_router(followup.router)
    api.include_router(outcomes.router)
    app.include_router(api)
    app.include_router(fhir_api.router)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _error: LoginRequired) -> Response:
        target = "/login?" + urlencode({"next": request.url.path})
        if request.headers.get("HX-Request") == "true":
            # HTMX follows HX-Redirect with a full page load; a 303 would be swapped in.
            return Response(status_code=401, headers={"HX-Redirect": target})
        if request.method in SAFE_METHODS:
            return RedirectResponse(target, status_code=303)
        return page_error(request, 401, "Your session ended; sign in again.")

    @app.exception_handler(PortalSignInRequired)
    async def portal_sign_in_required(request: Request, _error: PortalSignInRequired) -> Response:
        return page_error(
            request,
            401,
            "Your sign-in to the patient portal has ended. Open the link in your latest email"
            " from the clinic, or ask the clinic to send you a new one.",
        )

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, _error: CsrfRejected) -> Response:
        return page_error(request, 403, "That form did not come from this site (CSRF check).")

    @app.get("/healthz", tags=["operations"], dependencies=[Depends(public)])
    def healthz(application: AppDep) -> dict[str, str]:
        """Alive and able to reach the database."""
        with application.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    app.include_router(account_pages.router)
    app.include_router(outcome_pages.router)
    app.include_router(oversight_pages.router)
    app.include_router(pages.router)
    app.include_router(product_pages.router)
    app.include_router(procedure_pages.router)
    app.include_router(evaluation_pages.router)
    app.include_router(prescreen_pages.router)
    app.include_router(consent_pages.router)
    app.include_router(safety_pages.router)
    app.include_router(portal_pages.router)
    app.include_router(followup_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
