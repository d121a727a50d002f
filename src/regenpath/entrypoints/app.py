"""The ASGI application: the API under /api/v1, the web pages, /healthz."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from regenpath import __version__
from regenpath.bootstrap import Application, bootstrap
from regenpath.entrypoints import headers
from regenpath.entrypoints.api import problems
from regenpath.entrypoints.api.routers import clinics, episodes, patients
from regenpath.entrypoints.deps import AppDep
from regenpath.entrypoints.web import pages

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

    api = APIRouter(prefix="/api/v1")
    api.include_router(clinics.router)
    api.include_router(patients.router)
    api.include_router(episodes.router)
    app.include_router(api)

    @app.get("/healthz", tags=["operations"])
    def healthz(application: AppDep) -> dict[str, str]:
        """Alive and able to reach the database."""
        with application.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
