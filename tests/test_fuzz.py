"""Fuzzing the HTTP API from its own OpenAPI spec (schemathesis): no request may get a 500, and
every answer must match the schema the spec declares for it.

Every operation of ``create_app(settings).openapi()`` gets a bounded, derandomized run of
generated requests (valid and invalid: wrong types, out-of-range numbers, odd strings in paths
and queries, broken bodies) against a database holding the hand-made district of test_maps
(16 micro-grids with hazards and a computed risk map) plus a few incidents and a case, so the
requests reach the real queries. The checks: no server error, and each answer's body conforms
to the schema its operation declares for that status (the response models of ``api/models``,
the GeoJSON ones included, and the shared error body): a key the model does not name, a
missing one or a value of another type fails.

Schemathesis alone draws dates near today, short ASCII codes and small numbers, so it never
found the 500s of a date at the ends of Python's calendar or a polygon ring that does not close.
Each generated case therefore has, at random, some of its query parameters replaced by a value
of their type from the edges (:data:`EDGES`: dates and instants at 0001-01-01 and 9999-12-31
and either side of the supported range, codes with odd characters, huge integers), and an
uploaded file by a GeoJSON whose polygon does not close or starts with NaN. The number of cases
run is printed at the end of the module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.python.asgi import shutdown_lifespans
from sqlalchemy import Engine

from api.app import create_app
from geo.access import Role
from geo.records import submit_records
from geo.settings import Settings
from tests.clients import make_user, token_for
from tests.test_maps import build_district

# A budget per operation (positive and negative cases mixed): 42 operations × 40 examples
# take about 2 minutes on 2 cores. The seed is fixed (derandomize), so CI runs the same requests.
MAX_EXAMPLES = 40


@pytest.fixture(scope="module")
def fuzz_schema(
    make_db: Callable[..., tuple[Engine, Settings]],
) -> Iterator[tuple[schemathesis.BaseSchema, Settings]]:
    """The app's schema, served by an app on a database with a small district in it, and
    that database's settings."""
    engine, db_settings = make_db("fuzz")
    build_district(engine, db_settings)
    submit_records(
        engine,
        db_settings,
        [
            {
                "source": "三零平台",
                "source_id": f"F{n}",
                "type": "dispute",
                "occurred_at": "2025-06-01 10:00",
                "x": 468_050.0 + 100 * n,
                "y": 3_846_850.0,
                "crs": "EPSG:4547",
            }
            for n in range(3)
        ],
        kind="incidents",
    )
    app = create_app(db_settings)
    yield schemathesis.openapi.from_asgi("/openapi.json", app), db_settings
    # schemathesis keeps each app's lifespan (and so its connection pool) until exit.
    shutdown_lifespans()


# Values from the edges of each parameter type.
_DAYS = ["0001-01-01", "9999-12-31", "1899-12-31", "1900-01-01", "2199-12-31", "2200-01-01"]
_INSTANTS = [
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-12:00",
    "2199-12-31T23:59:59-12:00",
]
_CODES = ["", " ", "M00\u0000", "💥", "a'; --", "%25", "../etc", "S-0" * 200, "\u202eM00"]
EDGES: dict[str, list[Any]] = {
    "date": _DAYS,
    "date-time": _INSTANTS,
    "string": _CODES + _DAYS + _INSTANTS,  # instants typed as text (coverage, records)
    "integer": [0, -1, 2**31, 2**63, -(2**63), 10**30],
}
_RINGS = [
    [[113.60, 34.70], [113.61, 34.70], [113.61, 34.71], [113.60, 34.71]],  # does not close
    [[float("nan"), 34.70], [113.61, 34.70], [113.61, 34.71], [113.60, 34.70]],
]
BAD_FILES = [
    json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"code": "X", "name": "X"},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            ],
        }
    ).encode()
    for ring in _RINGS
]
CASES_RUN: list[str] = []


def _kind(schema: dict[str, Any]) -> str | None:
    """The edge kind of a parameter's schema (through anyOf), None for enums and the rest."""
    for option in [schema, *schema.get("anyOf", [])]:
        if "enum" in option or "$ref" in option:
            return None
        if option.get("type") == "string":
            return (
                str(option.get("format", "string")) if option.get("format") in EDGES else "string"
            )
        if option.get("type") == "integer":
            return "integer"
    return None


@st.composite
def widened(draw: st.DrawFn, operation: Any, generated: st.SearchStrategy[Any]) -> Any:
    """A generated case with some query parameters (and an uploaded file) from the edges."""
    case = draw(generated)
    for parameter in operation.query:
        kind = _kind(parameter.definition.get("schema", {}))
        if kind is not None and draw(st.booleans()):
            case.query = {**(case.query or {}), parameter.name: draw(st.sampled_from(EDGES[kind]))}
    if isinstance(case.body, dict) and "file" in case.body and draw(st.booleans()):
        case.body = {**case.body, "file": draw(st.sampled_from(BAD_FILES))}
    return case


SPEC = create_app(Settings()).openapi()
OPERATIONS = [(method.upper(), path) for path, ops in SPEC["paths"].items() for method in ops]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_errors(
    fuzz_schema: tuple[schemathesis.BaseSchema, Settings], method: str, path: str
) -> None:
    schema, fuzz_db = fuzz_schema
    operation = schema[path][method]
    # A token of its own per operation: fuzzing DELETE /api/auth/token revokes the one it sends.
    admin = make_user(fuzz_db, Role.ADMIN)
    headers = {"Authorization": f"Bearer {token_for(fuzz_db, admin)}"}
    strategy = widened(
        operation,
        st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ),
    )

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        CASES_RUN.append(f"{method} {path} {response.status_code}")
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    run()


def test_report_cases_run(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last (pytest keeps the file's order): how many cases ran and how many got a 500."""
    server_errors = [c for c in CASES_RUN if c.endswith(" 500")]
    with capsys.disabled():
        print(
            f"\nfuzz: {len(CASES_RUN)} cases over {len(OPERATIONS)} operations, "
            f"{len(server_errors)} answers of 500"
        )
    assert server_errors == []
