"""Checks every request passes before its handler: text PostgreSQL can store, a body in bounds."""

from __future__ import annotations

import re

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo.errors import InputError
from geo.settings import Settings

# Room for the multipart framing and form fields around an uploaded file.
MULTIPART_OVERHEAD_BYTES = 1 << 20

# A JSON string escape for U+0000: ``\u0000`` after an even number of backslashes (an odd
# number would make the first backslash part of an escaped ``\\``).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


async def refuse_nul(request: Request) -> None:
    """Refuse a NUL character in the path, the query or a JSON body.

    PostgreSQL ``text`` cannot hold U+0000, so such a value would fail deep inside a query;
    no legitimate code, name or time contains one, so it is refused at the edge with a 400.
    """
    where = None
    if "\x00" in request.url.path:
        where = "the path"
    elif any("\x00" in k or "\x00" in v for k, v in request.query_params.multi_items()):
        where = "the query"
    elif request.headers.get("content-type", "").startswith("application/json") and (
        _JSON_NUL.search(await request.body())
    ):
        where = "the JSON body"
    if where is not None:
        msg = f"{where} contains a NUL character (U+0000), which no stored text may hold"
        raise InputError(msg)


UPLOAD_PATHS = ("/api/admin/", "/api/import/uploads")
"""Where files are uploaded: the admin imports and the import page's uploads."""


class BodyLimit:
    """Refuse a request body over its limit with a 413 that names the limit and its setting.

    Uploads (multipart bodies to :data:`UPLOAD_PATHS`) may be ``max_upload_bytes`` plus room for
    the multipart framing; every other body (JSON record, track and check-in batches, route
    requests, case steps) ``max_body_bytes``. A declared ``Content-Length`` over the limit is
    refused before anything is read; a streamed body is cut off at the limit. Starlette would
    otherwise read a whole multipart body to disk before the handler could look at it.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def _limit(self, scope: Scope) -> tuple[int, str]:
        content_type = Headers(scope=scope).get("content-type", "")
        if scope["path"].startswith(UPLOAD_PATHS) and content_type.startswith("multipart/"):
            return (
                self.settings.intake.max_upload_bytes + MULTIPART_OVERHEAD_BYTES,
                "GRIDSAFE_MAX_UPLOAD_BYTES",
            )
        return self.settings.intake.max_body_bytes, "GRIDSAFE_MAX_BODY_BYTES"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = self._limit(scope)
        detail = (
            f"request body over the limit of {limit} bytes ({setting}); "
            "send fewer records per request or import the file instead"
        )
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(status_code=413, detail=detail)
            return message

        await self.app(scope, counted, send)
