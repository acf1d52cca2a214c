"""The one table mapping domain errors to HTTP status codes, installed by one function."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from api.auth import admitted, route_roles
from api.models.common import ErrorBody, ValidationErrorBody
from api.params import OUT_OF_RANGE
from api.shell import shell_for, unauthenticated, wants_page
from geo.cases import CaseConflictError
from geo.errors import (
    STORAGE_ERRNOS,
    AuthenticationError,
    BusyError,
    CRSError,
    DatabaseUnavailableError,
    GridsafeError,
    ImportRejectedError,
    InputError,
    LoginThrottledError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    storage_error,
)
from maps.assets import AssetsMissingError
from maps.chrome import error_detail, error_page

LOG = logging.getLogger(__name__)

STATUS_CODES: dict[type[Exception], int] = {
    NotFoundError: 404,
    PermissionDeniedError: 403,
    LoginThrottledError: 429,
    CaseConflictError: 409,
    InputError: 400,
    CRSError: 400,
    ValueError: 400,
    ImportRejectedError: 422,
    DatabaseUnavailableError: 503,
    BusyError: 503,
    AssetsMissingError: 503,
    OperationalError: 503,
    PoolTimeoutError: 503,
    StorageError: 507,
}


ERROR_MEANINGS: dict[int, str] = {
    400: "a value the request gave is wrong (the detail names it)",
    401: "no valid credentials (a bearer token or the session cookie)",
    403: "the caller's role or area does not allow it",
    404: "no such thing (or none the caller's area shows)",
    409: "the request conflicts with the stored state (a case's state or version)",
    413: "the request body is over the limit",
    429: "too many failed logins: wait Retry-After seconds",
    500: "an error nobody mapped (logged; its details are kept from the caller)",
    503: "the database is unavailable or the server busy: retry after Retry-After seconds",
    507: "the server's disk is full",
}
"""What each error status means, for the OpenAPI spec."""


def error_responses() -> dict[int | str, dict[str, object]]:
    """The error answers of every route for the OpenAPI spec: each status of
    :data:`STATUS_CODES` and those the app's guards give, with the JSON body they carry
    (422: FastAPI's list of unreadable values, or an import's rejected rows)."""
    statuses = {*STATUS_CODES.values(), 401, 413, 500} - {422}
    out: dict[int | str, dict[str, object]] = {
        status: {"model": ErrorBody, "description": ERROR_MEANINGS[status]}
        for status in sorted(statuses)
    }
    out[422] = {
        "model": ValidationErrorBody,
        "description": "request values that could not be read, or an import refused as a whole",
    }
    return out


def document_errors(app: FastAPI) -> None:
    """Show every error answer as ``application/json`` in the spec, whatever the route's own
    media type (GeoJSON, a tile, a page): FastAPI files a route's extra responses under the
    route's media type, but the handlers above always answer an API client in JSON."""
    build = app.openapi
    errors = {str(status): response for status, response in error_responses().items()}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        for operation in (op for path in spec["paths"].values() for op in path.values()):
            for status, response in operation["responses"].items():
                if status in errors:
                    model = cast("type[BaseModel]", errors[status]["model"])
                    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
                    response["content"] = {"application/json": {"schema": ref}}
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


INSUFFICIENT_PRIVILEGE = "42501"
"""PostgreSQL's SQLSTATE for a row-level security refusal: a write outside the caller's area."""


def _status_for(exc: Exception) -> int:
    if isinstance(exc, DBAPIError) and _sqlstate(exc) == INSUFFICIENT_PRIVILEGE:
        return 403
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 500


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def _body(exc: Exception) -> dict[str, object]:
    if isinstance(exc, DBAPIError) and _sqlstate(exc) == INSUFFICIENT_PRIVILEGE:
        return {"detail": "refused: outside your area"}
    if isinstance(exc, ImportRejectedError):
        return {
            "detail": f"{exc.what}: rejected, nothing written",
            "problems": [{"row": p.row, "id": p.ident, "reason": p.reason} for p in exc.problems],
        }
    if isinstance(exc, CaseConflictError):
        return {"detail": str(exc), **exc.details}
    if isinstance(exc, (OperationalError, DatabaseUnavailableError)):
        return {"detail": "the database is unavailable; retry shortly"}
    if isinstance(exc, PoolTimeoutError):
        return {"detail": "server busy: every database connection is in use; retry shortly"}
    return {"detail": str(exc)}


async def error_response(
    request: Request,
    status: int,
    *,
    exc: Exception | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The error as a page in the shell, in the reader's language, with its status kept."""

    def render() -> str:
        shell = shell_for(request)
        detail = error_detail(exc, shell.t) if exc is not None else None
        return error_page(request.app.state.settings, shell, status=status, detail=detail)

    try:
        html = await run_in_threadpool(render)
    except Exception as failed:
        # The shell reads the area's name from the database, and the database may be what
        # failed: then the page comes without the signed-in user's header.
        LOG.warning("error page without the user's header: %s", failed)
        credential = getattr(request.state, "credential", None)
        request.state.credential = None
        try:
            html = await run_in_threadpool(render)
        finally:
            request.state.credential = credential
    return HTMLResponse(html, status_code=status, headers=headers)


def add_exception_handlers(app: FastAPI) -> None:
    """Install the handlers: domain errors get their status, a lost database a 503 with retry."""
    retry_after = str(app.state.settings.db.retry_after_s)

    async def handler(request: Request, exc: Exception) -> Response:
        if isinstance(exc, AuthenticationError):
            return unauthenticated(request, exc)
        status = _status_for(exc)
        headers = {"Retry-After": retry_after} if status == 503 else None
        if isinstance(exc, LoginThrottledError):
            headers = {"Retry-After": str(exc.retry_after_s)}
        if status == 500:
            # An error nobody mapped: log it, but keep its SQL and values from the user.
            LOG.error("unmapped error", exc_info=exc)
        if wants_page(request):
            return await error_response(request, status, exc=exc, headers=headers)
        if status == 500:
            return JSONResponse({"detail": "internal error (logged)"}, status_code=500)
        return JSONResponse(_body(exc), status_code=status, headers=headers)

    async def http_handler(request: Request, exc: Exception) -> Response:
        # FastAPI turns any error while parsing a form into "400 There was an error parsing the
        # body"; when the cause is the disk refusing Starlette's spooled upload, say so instead.
        cause = exc.__cause__
        if isinstance(cause, OSError) and cause.errno in STORAGE_ERRNOS:
            return await handler(request, storage_error(cause, "the upload"))
        if wants_page(request) and isinstance(exc, HTTPException):
            return await error_response(request, exc.status_code, headers=exc.headers)
        return await http_exception_handler(request, exc)  # type: ignore[arg-type]

    async def validation_handler(request: Request, exc: Exception) -> Response:
        # FastAPI reads and checks a body before it runs a route's dependencies, so a caller
        # without credentials (or without the role) would learn from a 422 what the route
        # expects: who may call the route is answered first, as for a well-formed request.
        roles = route_roles(request.scope.get("route"))
        if roles is not None:
            try:
                await admitted(request, roles)
            except GridsafeError as refused:
                return await handler(request, refused)
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        out_of_range = [e for e in errors if e.get("type") == OUT_OF_RANGE]
        if out_of_range:
            # A date no layer below can hold: a bad request naming the parameter and the range.
            detail = "; ".join(
                f"{'.'.join(str(part) for part in e['loc'][1:])}: {e['msg']}" for e in out_of_range
            )
            if wants_page(request):
                return await error_response(request, 400)
            return JSONResponse({"detail": detail}, status_code=400)
        if wants_page(request):
            return await error_response(request, 422)
        return await request_validation_exception_handler(request, exc)  # type: ignore[arg-type]

    # Exception: an error nobody mapped still gets its page or its JSON 500, never a traceback.
    for cls in (*STATUS_CODES, GridsafeError, DBAPIError, Exception):
        app.add_exception_handler(cls, handler)
    app.add_exception_handler(HTTPException, http_handler)
    app.add_exception_handler(RequestValidationError, validation_handler)
