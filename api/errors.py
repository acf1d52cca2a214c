"""The one table mapping domain errors to HTTP status codes, installed by one function."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError

from geo.cases import CaseConflictError
from geo.errors import (
    CRSError,
    DatabaseUnavailableError,
    GridsafeError,
    ImportRejectedError,
    InputError,
    NotFoundError,
)
from maps.assets import AssetsMissingError

LOG = logging.getLogger(__name__)

STATUS_CODES: dict[type[Exception], int] = {
    NotFoundError: 404,
    CaseConflictError: 409,
    InputError: 400,
    CRSError: 400,
    ValueError: 400,
    ImportRejectedError: 422,
    DatabaseUnavailableError: 503,
    AssetsMissingError: 503,
    OperationalError: 503,
}


def _status_for(exc: Exception) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 500


def _body(exc: Exception) -> dict[str, object]:
    if isinstance(exc, ImportRejectedError):
        return {
            "detail": f"{exc.what}: rejected, nothing written",
            "problems": [{"row": p.row, "id": p.ident, "reason": p.reason} for p in exc.problems],
        }
    if isinstance(exc, CaseConflictError):
        return {"detail": str(exc), **exc.details}
    if isinstance(exc, (OperationalError, DatabaseUnavailableError)):
        return {"detail": "the database is unavailable; retry shortly"}
    return {"detail": str(exc)}


def add_exception_handlers(app: FastAPI) -> None:
    """Install the handlers: domain errors get their status, a lost database a 503 with retry."""

    async def handler(_request: Request, exc: Exception) -> JSONResponse:
        status = _status_for(exc)
        headers = {"Retry-After": "5"} if status == 503 else None
        if status == 500:
            # An error nobody mapped: log it, but keep its SQL and values from the user.
            LOG.error("unmapped error", exc_info=exc)
            return JSONResponse({"detail": "internal error (logged)"}, status_code=500)
        return JSONResponse(_body(exc), status_code=status, headers=headers)

    for cls in (*STATUS_CODES, GridsafeError, DBAPIError):
        app.add_exception_handler(cls, handler)
