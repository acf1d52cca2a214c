"""Every answer a test client gets is checked against the model its route declares.

The GeoJSON routes pass on text PostGIS built, which FastAPI does not check; the fuzz test
checks them against the spec, but on a small district. Hooked into the clients of
``tests/clients.py``, the check runs on the answers of every API test too: the route's
``responses`` model (or its ``response_model``) for a success, the shared error body for a
JSON error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import TypeAdapter
from starlette.routing import compile_path

from api.models.common import ErrorBody, ValidationErrorBody


def _route(app: FastAPI, request: httpx.Request) -> APIRoute | None:
    """The API route that answered ``request`` (the routers are included, so walk them)."""
    for context in iter_route_contexts(app.router.routes):
        route = context.original_route
        if (
            isinstance(route, APIRoute)
            and request.method in (context.methods or ())
            and compile_path(str(context.path))[0].fullmatch(request.url.path)
        ):
            return route
    return None


def _model(route: APIRoute, status: int) -> Any:
    """The type the answer of ``status`` must validate as; None: not a JSON answer."""
    declared = route.responses.get(status, {}).get("model")
    if declared is not None:
        return declared
    if 200 <= status < 300:
        return route.response_model
    return ValidationErrorBody if status == 422 else ErrorBody


def conformance_check(app: FastAPI) -> Callable[[httpx.Response], None]:
    """An httpx response hook asserting the answer's body validates as its declared model."""

    def check(response: httpx.Response) -> None:
        media_type = response.headers.get("content-type", "").split(";")[0]
        if media_type != "application/json" and not media_type.endswith("+json"):
            return
        route = _route(app, response.request)
        if route is None:
            return
        model = _model(route, response.status_code)
        if model is None:
            return
        response.read()
        TypeAdapter(model).validate_json(response.content, strict=True)

    return check
