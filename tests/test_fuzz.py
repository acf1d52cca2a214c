"""Fuzzing the HTTP API from its own OpenAPI spec (schemathesis): no request may get a 500.

Every operation of ``create_app(settings).openapi()`` gets a bounded, derandomized run of
generated requests (valid and invalid: wrong types, out-of-range numbers, odd strings in paths
and queries, broken bodies) against a database holding the hand-made district of test_maps
(16 micro-grids with hazards and a computed risk map) plus a few incidents and a case, so the
requests reach the real queries. The checks: no server error, and the status code is one the
operation documents or a client error the app raises on purpose (400/404/409/413/422/503).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from sqlalchemy import Engine

from api.app import create_app
from geo.access import Role
from geo.records import submit_records
from geo.settings import Settings
from tests.clients import make_user, token_for
from tests.test_maps import build_district

# A budget per operation (positive and negative cases mixed): 32 operations × 40 examples
# take about 45 s on 2 cores. The seed is fixed (derandomize), so CI runs the same requests.
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
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
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
        case.validate_response(response, checks=[not_a_server_error])

    run()
