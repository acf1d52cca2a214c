"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse

from api.admission import Admission
from api.auth import CheckedCredentials, page_session
from api.cache import response_cache
from api.errors import add_exception_handlers, document_errors, error_responses
from api.guards import BodyLimit, refuse_nul
from api.headers import SecurityHeaders
from api.routers import (
    admin,
    areas,
    cases,
    coverage,
    field,
    health,
    imports_api,
    imports_pages,
    live,
    login,
    maps,
    records,
    risk,
    routes,
    tiles,
    units,
)
from api.uploads import StagedUploads
from geo.database import make_engine
from geo.routing.progress import PlanJobs
from geo.settings import Settings
from maps.chrome import with_nonce
from maps.pages import docs_page


def create_app(settings: Settings) -> FastAPI:
    """Build the app; the connection pool lives from start-up to shutdown on ``app.state``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = make_engine(settings.db)
        try:
            yield
        finally:
            app.state.engine.dispose()

    app = FastAPI(
        title="gridsafe",
        summary="Four-colour risk maps, patrol coverage and routes for grid governance.",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(refuse_nul)],
        responses=error_responses(),
        # The docs page is served from the app's own copy of Swagger UI (no CDN), below.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.plan_jobs = PlanJobs()
    app.state.responses = response_cache(settings)
    app.state.credentials = CheckedCredentials(settings.access.credential_cache_s)
    app.state.import_jobs = imports_pages.ImportJobs()
    app.state.staged_uploads = StagedUploads()
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(BodyLimit, settings=settings)
    # Before the body limit and gzip: a request over the in-flight limit costs neither.
    app.add_middleware(Admission, settings=settings, state=app.state)
    # Outermost, so every answer gets the headers, a busy 503 or a 413 included.
    app.add_middleware(SecurityHeaders, settings=settings)
    add_exception_handlers(app)
    app.include_router(health.router)
    app.include_router(login.pages)
    app.include_router(login.router)
    app.include_router(areas.router)
    app.include_router(admin.router)
    app.include_router(admin.pages)
    app.include_router(imports_api.router)
    app.include_router(tiles.router)
    app.include_router(records.router)
    app.include_router(risk.router)
    app.include_router(maps.router)
    app.include_router(coverage.router)
    app.include_router(coverage.pages)
    app.include_router(routes.router)
    app.include_router(routes.pages)
    app.include_router(units.router)
    app.include_router(units.pages)
    app.include_router(live.router)
    app.include_router(live.pages)
    app.include_router(cases.router)
    app.include_router(cases.pages)
    app.include_router(field.router)
    app.include_router(field.pages)
    app.include_router(field.worker)
    app.include_router(imports_pages.router)
    app.include_router(imports_pages.pages)
    document_errors(app)
    _add_docs(app)
    return app


def _add_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI over ``/openapi.json``, its scripts and style served by the app.

    For a user signed in on the pages, the docs' requests go with their session cookie, so a
    change must carry the session's CSRF token like any page's: the page holds it in a
    ``<meta>`` and ``docs.js`` adds it to every request that changes something (Swagger UI's
    ``requestInterceptor``). A bearer token from the Authorize button needs none.
    """

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        credential = await page_session(request)
        html = docs_page(
            title=f"{app.title} API",
            openapi_url=str(app.openapi_url),
            csrf=credential.csrf if credential is not None else None,
        )
        # Every script of the page carries its CSP nonce.
        return HTMLResponse(with_nonce(html, request.state.csp_nonce))
