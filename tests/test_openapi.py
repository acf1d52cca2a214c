"""The OpenAPI spec tells a client what every JSON route answers.

Walks ``create_app(settings).openapi()``: each operation under ``/api`` (and the health check
and the map pages' data) must describe its success answer, a JSON one with the schema of a named
model (not a bare ``object``), and describe its error answers with the shared error body. A route
planted without a model proves the walk finds one (no database needed: the spec is built from
the routes alone). On the demo district, the read routes' answers are checked against their
models.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI, Response
from sqlalchemy import Engine, text

from api.app import create_app
from api.models.admin import Account
from geo.settings import Settings
from tests.clients import api_client

REF = "#/components/schemas/"


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _named(schema: dict[str, Any]) -> bool:
    """The schema is a named model, or a list of one."""
    if schema.get("type") == "array":
        return _named(schema.get("items", {}))
    return str(schema.get("$ref", "")).startswith(REF)


JSON_ROUTES = ("/api/", "/healthz", "/maps/data/")
"""Where the JSON routes live: the API, the health check and the data the map pages draw."""


def undescribed(spec: dict[str, Any]) -> list[str]:
    """``METHOD path`` of every operation under :data:`JSON_ROUTES` whose success answer is
    not described: no media type at all, or JSON without a named model's schema."""
    out = []
    for path, operations in spec["paths"].items():
        if not path.startswith(JSON_ROUTES):
            continue
        for method, operation in operations.items():
            success = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
            if set(success) == {"204"}:
                continue  # no body
            contents = [r.get("content", {}) for r in success.values()]
            json_schemas = [
                schema.get("schema", {})
                for content in contents
                for media_type, schema in content.items()
                if _is_json(media_type)
            ]
            if not all(contents) or not all(_named(s) for s in json_schemas):
                out.append(f"{method.upper()} {path}")
    return out


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(Settings())


def test_every_json_route_declares_its_answer(app: FastAPI) -> None:
    spec = app.openapi()
    assert undescribed(spec) == []
    # The walk saw the routes it is about: the GeoJSON lists and the dict answers alike.
    ok = spec["paths"]["/api/incidents"]["get"]["responses"]["200"]["content"]
    assert ok == {"application/geo+json": {"schema": {"$ref": REF + "IncidentCollection"}}}
    assert spec["paths"]["/api/stats"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ] == {"$ref": REF + "Stats"}


def test_error_answers_carry_the_error_body(app: FastAPI) -> None:
    spec = app.openapi()
    for path in ("/api/areas", "/api/cases/{case_id}", "/tiles/{layer}/{z}/{x}/{y}.mvt"):
        operation = spec["paths"][path]["get"]
        for status in ("400", "403", "404", "503"):
            content = operation["responses"][status]["content"]
            assert content == {"application/json": {"schema": {"$ref": REF + "ErrorBody"}}}
        invalid = operation["responses"]["422"]["content"]["application/json"]["schema"]
        assert invalid == {"$ref": REF + "ValidationErrorBody"}
    body = spec["components"]["schemas"]["ErrorBody"]
    assert body["required"] == ["detail"]
    assert body["additionalProperties"] is False


def test_a_route_without_a_model_is_found() -> None:
    """Planted routes: a dict answer, a plain Response saying nothing, a model answer."""
    app = create_app(Settings())

    @app.get("/api/planted/dict")
    def planted_dict() -> dict[str, Any]:
        return {}

    # Response has no media type: FastAPI documents no content at all.
    @app.get("/api/planted/text", response_class=Response)
    def planted_text() -> Response:
        return Response("{}")

    @app.get("/maps/data/planted")
    def planted_data() -> list[dict[str, Any]]:
        return []

    @app.get("/api/planted/described", response_model=list[Account])
    def planted_described() -> list[dict[str, Any]]:
        return []

    assert undescribed(app.openapi()) == [
        "GET /api/planted/dict",
        "GET /api/planted/text",
        "GET /maps/data/planted",
    ]


def test_demo_answers_match_their_models(demo: Engine, demo_settings: Settings) -> None:
    """The read routes on the demo district (tracks, check-ins, a risk map, cases): the client's
    conformance hook (tests/conformance.py) checks each answer against its model. (Plans are
    checked so in tests/test_routing_network.py, which stores one.)"""
    with demo.connect() as conn:
        case_id = conn.execute(text("SELECT max(id) FROM cases")).scalar()
        code = conn.execute(text("SELECT max(area_code) FROM risk_scores")).scalar()
    assert case_id is not None
    assert code is not None
    reads: list[tuple[str, dict[str, str]]] = [
        ("/healthz", {}),
        ("/api/areas", {}),
        (f"/api/areas/{code}", {}),
        ("/api/incidents", {"limit": "200"}),
        ("/api/hazards", {"limit": "200"}),
        ("/api/risk", {}),
        (f"/api/risk/{code}", {}),
        ("/api/coverage", {"period": "week"}),
        ("/api/coverage", {"period": "day", "level": "grid3"}),
        ("/api/gaps", {}),
        ("/api/gaps", {"level": "grid3"}),
        ("/api/cases", {}),
        (f"/api/cases/{case_id}", {}),
        ("/api/stats", {}),
        ("/api/admin/users", {}),
        ("/api/admin/audit", {"limit": "1000"}),
        ("/maps/data/hazards", {}),
        ("/maps/data/incidents", {}),
    ]
    with api_client(demo_settings) as client:
        for path, params in reads:
            response = client.get(path, params=params)
            assert response.status_code == 200, (path, response.text[:300])
